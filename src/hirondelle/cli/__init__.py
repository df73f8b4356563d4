"""The ``hirondelle`` command.

Each command parses its options and calls one service function: everything
the command line does, the web page can do too. Commands live one topic per
module and are registered here.
"""

from __future__ import annotations

import json

import click

from hirondelle import __version__
from hirondelle.cli._django import USER_KEY
from hirondelle.cli.archive import archive
from hirondelle.cli.directory import directory
from hirondelle.cli.discover import discover
from hirondelle.cli.importing import import_archive
from hirondelle.cli.institution import institution
from hirondelle.cli.lists import lists
from hirondelle.cli.match import match
from hirondelle.cli.reconnect import accounts, connect, disconnect, plan, run
from hirondelle.cli.republish import alt_text, republish
from hirondelle.cli.serve import migrate, serve, worker
from hirondelle.cli.servers import servers

__all__ = ["JsonErrors", "main"]


class JsonErrors(click.Group):
    """Errors as JSON when the command was asked for JSON: one shape for all.

    Any command given ``--json`` that fails (a usage error, or a
    ClickException its code raised) prints ``{"error": message, "exit_code":
    n}`` on standard output instead of the usual text on standard error, and
    exits with the same code. Machines never have to parse English.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["hirondelle.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            if not ctx.meta.get("hirondelle.json"):
                raise
            click.echo(json.dumps({"error": e.format_message(), "exit_code": e.exit_code}))
            ctx.exit(e.exit_code)


@click.group(cls=JsonErrors, invoke_without_command=True)
@click.version_option(__version__, prog_name="hirondelle")
@click.option(
    "--user",
    "user",
    metavar="NAME",
    help="Act for this person (a portal's user name; `local` is the operator's own "
    "profile). Needed on a portal; on a laptop the command line and the web page "
    "already act for the same person.",
)
@click.pass_context
def main(ctx: click.Context, user: str | None) -> None:
    """Leave X without losing anyone.

    Reads your X archive, finds the people you follow on Mastodon and Bluesky,
    follows them again, and brings your posts along. With no command, starts
    the local web page (same as `hirondelle serve`). On a laptop, the command
    line and the web page act for the same person: an archive imported here
    is on the page, and accounts connected on the page are used here.
    """
    ctx.meta[USER_KEY] = user
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
    institution,
    servers,
):
    main.add_command(command)
