"""Plain-Python core: event kinds, value types and the rules of the policy.

Nothing here imports Textual, SQLAlchemy or any other I/O library.
"""
