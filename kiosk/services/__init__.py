"""Use cases of the kiosk. Each call is one transaction and returns frozen dataclasses.

Import :class:`kiosk.services.app.Services` to use them; this package's ``__init__`` stays
empty so that importing a view type does not pull in SQLAlchemy.
"""
