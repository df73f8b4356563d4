"""`hirondelle archive …`: read an X archive without touching the database."""

from __future__ import annotations

import click


@click.group()
def archive() -> None:
    """Look inside an X archive (nothing is stored or sent)."""
