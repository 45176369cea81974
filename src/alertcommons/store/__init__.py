"""Storage: schema, engines (SQLite by default, PostgreSQL), migrations, queries."""
