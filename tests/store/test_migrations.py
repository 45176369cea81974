"""The Alembic migrations create exactly the schema the code describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alertcommons.store.engine import Store
from alertcommons.store.schema import metadata


def test_migrations_match_schema(database_url: str) -> None:
    store = Store(database_url)
    try:
        store.migrate()
        store.migrate()  # running again at the next start changes nothing
        with store._write_engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, metadata)
    finally:
        store.close()
    assert differences == []
