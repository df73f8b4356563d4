"""The ``hirondelle`` command.

Each command parses its options and calls one service function: everything
the command line does, the web page can do too. Commands live one topic per
module and are registered here.
"""

from __future__ import annotations

import click

from hirondelle import __version__
from hirondelle.cli.archive import archive
from hirondelle.cli.directory import directory
from hirondelle.cli.discover import discover
from hirondelle.cli.importing import import_archive
from hirondelle.cli.lists import lists
from hirondelle.cli.match import match
from hirondelle.cli.reconnect import accounts, connect, disconnect, plan, run
from hirondelle.cli.republish import alt_text, republish
from hirondelle.cli.serve import migrate, serve, worker

__all__ = ["main"]


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="hirondelle")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Leave X without losing anyone.

    Reads your X archive, finds the people you follow on Mastodon and Bluesky,
    follows them again, and brings your posts along. With no command, starts
    the local web page (same as `hirondelle serve`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


# In the order of a migration: read, import, match, connect, plan, run, republish.
for command in (
    serve,
    worker,
    migrate,
    archive,
    import_archive,
    directory,
    match,
    discover,
    connect,
    accounts,
    disconnect,
    plan,
    run,
    lists,
    republish,
    alt_text,
):
    main.add_command(command)
