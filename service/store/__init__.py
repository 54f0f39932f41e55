"""Persistence: SQLAlchemy 2.0 models, engine/session wiring, repositories, migrations."""
