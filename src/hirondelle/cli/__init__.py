"""The ``hirondelle`` command.

Each command parses its options and calls one service function: everything
the command line does, the web page can do too. Commands live one topic per
module and are registered here.
"""

from __future__ import annotations

import importlib
import json

import click

from hirondelle import __version__
from hirondelle.cli._django import USER_KEY

__all__ = ["JsonErrors", "main"]


#: Command name → (module, attribute), in the order of a migration: read, import,
#: match, connect, plan, run, republish. A command's module is imported only
#: when it runs (or help lists it): `archive inspect` needs neither Django nor
#: the network clients, and starts in a fraction of the time.
COMMANDS = {
    "serve": ("hirondelle.cli.serve", "serve"),
    "worker": ("hirondelle.cli.serve", "worker"),
    "migrate": ("hirondelle.cli.serve", "migrate"),
    "archive": ("hirondelle.cli.archive", "archive"),
    "import": ("hirondelle.cli.importing", "import_archive"),
    "directory": ("hirondelle.cli.directory", "directory"),
    "match": ("hirondelle.cli.match", "match"),
    "discover": ("hirondelle.cli.discover", "discover"),
    "connect": ("hirondelle.cli.reconnect", "connect"),
    "accounts": ("hirondelle.cli.reconnect", "accounts"),
    "disconnect": ("hirondelle.cli.reconnect", "disconnect"),
    "plan": ("hirondelle.cli.reconnect", "plan"),
    "run": ("hirondelle.cli.reconnect", "run"),
    "lists": ("hirondelle.cli.lists", "lists"),
    "republish": ("hirondelle.cli.republish", "republish"),
    "alt-text": ("hirondelle.cli.republish", "alt_text"),
    "institution": ("hirondelle.cli.institution", "institution"),
    "servers": ("hirondelle.cli.servers", "servers"),
}


class JsonErrors(click.Group):
    """Errors as JSON when the command was asked for JSON: one shape for all.

    Any command given ``--json`` that fails (a usage error, or a
    ClickException its code raised) prints ``{"error": message, "exit_code":
    n}`` on standard output instead of the usual text on standard error, and
    exits with the same code. Machines never have to parse English.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

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
        ctx.invoke(main.get_command(ctx, "serve"))
