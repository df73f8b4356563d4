"""`hirondelle discover`: find your people even when they never joined a directory."""

from __future__ import annotations

import json

import click

from hirondelle.cli._django import ensure_database, setup_django
from hirondelle.cli.match import pick_migration

#: Rows of people found by claims printed without --json.
ROWS_SHOWN = 50


@click.command()
@click.option(
    "--offline",
    is_flag=True,
    help="Read only what your archive says; send nothing anywhere (what discover does "
    "without a search option).",
)
@click.option(
    "--search",
    is_flag=True,
    help="Also search the networks (this flag is your consent): the X usernames of the "
    "people you follow are sent to Bluesky's public search and to your own Mastodon "
    "server. Resumes where a stopped search left off.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, for machines.")
@click.option("--account", help="Which imported X account (@username or id), if several.")
def discover(offline: bool, search: bool, as_json: bool, account: str | None) -> None:
    """Find the people of your X network who never joined a directory.

    Your archive lists the accounts you follow, your followers, blocks and
    mutes as bare numbers, but your posts name many of them (mentions,
    replies, long posts, community posts), and many put their new address
    in their X display name ("Alice 🦋 alice.bsky.social"). This shows, per
    part of your network, how many are named and how many carry an address,
    and lists the people found by those addresses alone. Nothing leaves
    your machine: no request is made.

    With --search, the people followed whom the archive names and no
    directory knows are looked for on Bluesky (its public search, no
    sign-in) and on your connected Mastodon server; what is found is listed
    for review (the web page's "Find the people nobody listed" step). Only
    the candidates ticked become part of your plan: in advance, those both
    sides name, and lone claims from accounts with a history; never a name
    alone, never two claimants for one account.

    \b
    Example:
        hirondelle discover --offline
        hirondelle discover --offline --json
        hirondelle discover --search --json
    """
    if offline and search:
        raise click.UsageError("--offline sends nothing; --search sends names: choose one.")
    setup_django()
    ensure_database()
    from hirondelle.migration.services.discovery_names import offline_discovery

    migration = pick_migration(account)
    result = offline_discovery(migration)
    if search:
        from hirondelle.cli.discover_search import search_and_report

        search_and_report(migration, as_json=as_json, graph=result.as_dict()["graph"])
        return
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"@{migration.x_username}: what your archive says")
    table.add_column("")
    table.add_column("accounts", justify="right")
    table.add_column("named in your posts", justify="right")
    table.add_column("with a new address in their X name", justify="right")
    for key, g in result.graph.items():
        table.add_row(key, f"{g.total:,}", f"{g.named:,}", f"{g.claims:,}")
    console.print(table)
    found = result.found_by_claims
    if not found:
        console.print(
            "Nobody of your network put a new address in the X name your posts show. "
            "The people your posts name can still be searched for by name on the networks."
        )
        return
    people = Table(title=f"Found by the address in their X name ({len(found):,})")
    for column in ("X account", "network", "address", "X display name", "in your"):
        people.add_column(column)
    for c in found[:ROWS_SHOWN]:
        people.add_row(
            f"@{c.x_username}", c.network, c.address, c.display_name, ", ".join(c.directions)
        )
    console.print(people)
    if len(found) > ROWS_SHOWN:
        console.print(f"… and {len(found) - ROWS_SHOWN:,} more: use --json to see them all.")
    console.print(
        "[dim]Each address is that account's own word on X, as your archive saw it: "
        "check it before following.[/dim]"
    )
