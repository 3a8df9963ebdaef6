"""``python -m mdstore`` runs the CLI."""

from .cli import main

main()
