"""The team tier: several clones of a vault share their notes through one PostgreSQL database."""
