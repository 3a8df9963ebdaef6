"""The structured index: scanning the vault, the DuckDB schema, writing and querying it."""
