"""The Vault write API: batches, link rewriting on moves, templates (see ``mdstore/writing.py``)."""
