"""The Vault write API: its methods (``methods.py``), batches, link rewriting on moves, templates."""
