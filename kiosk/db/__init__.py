"""Persistence: SQLAlchemy models, engine/session factory and schema migrations."""
