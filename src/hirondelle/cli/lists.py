"""`hirondelle lists`: show your X lists, and rebuild the ones you created."""

from __future__ import annotations

import json
import sys

import click

from hirondelle.cli._django import ensure_database, setup_django
from hirondelle.cli.reconnect import run

_OTHERS = (
    "Lists you were a member of or subscribed to belong to someone else: "
    "nothing to rebuild on your side (their owner may rebuild them)."
)


def _migration():
    from hirondelle.cli.match import pick_migration

    return pick_migration(None)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def lists(ctx: click.Context, as_json: bool) -> None:
    """Show your X lists; rebuild the ones you created on Mastodon or Bluesky.

    Your X archive gives each list's address only, not its name or members:
    you name each list and choose its members among the people found on the
    new network.

    \b
    Example:
        hirondelle lists
        hirondelle lists rebuild 1234567890 --name "Journalists" --to mastodon --all-found
    """
    if ctx.invoked_subcommand is not None:
        return
    setup_django()
    ensure_database()
    from hirondelle.migration.services.lists import default_name, lists_overview, progress

    overview = lists_overview(_migration())
    data = {
        "created": [
            {
                "url": row.url,
                "name": default_name(row),
                "rebuilds": [
                    {
                        "account": r.account.handle,
                        "network": r.account.network,
                        "name": r.name,
                        "created": bool(r.remote_list_id),
                        "members": progress(r),
                    }
                    for r in row.rebuilds.all()
                ],
            }
            for row in overview.created
        ],
        "member": [row.url for row in overview.member],
        "subscribed": [row.url for row in overview.subscribed],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Lists you created ({len(data['created'])}):")
    for row in data["created"]:
        click.echo(f"  {row['url']}")
        for r in row["rebuilds"]:
            state = "created" if r["created"] else "not created yet"
            counts = ", ".join(f"{n} {s}" for s, n in sorted(r["members"].items())) or "no member"
            click.echo(f"    → {r['name']!r} on {r['network']} {r['account']} ({state}): {counts}")
        if not row["rebuilds"]:
            click.echo("    not rebuilt: `hirondelle lists rebuild URL --name NAME --to NETWORK`")
    for kind, label in (("member", "you were a member of"), ("subscribed", "you subscribed to")):
        click.echo(f"Lists {label} ({len(data[kind])}):")
        for url in data[kind]:
            click.echo(f"  {url}")
    if data["member"] or data["subscribed"]:
        click.echo(_OTHERS)


@lists.command("rebuild")
@click.argument("x_list")
@click.option(
    "--name",
    help="The list's name on the new network (the archive has none; "
    'default: "X list <id>"). 64 characters at most.',
)
@click.option(
    "--to",
    "network",
    type=click.Choice(["mastodon", "bluesky"]),
    required=True,
    help="The network to rebuild the list on (one of your connected accounts).",
)
@click.option("--account", "handle", help="Which connected account, if you have several there.")
@click.option(
    "--members-file",
    type=click.File("r", encoding="utf-8"),
    help="Members to add: a text or CSV file with one @handle or X profile address "
    "per line (for instance copied by hand from the list's page on x.com); '-' reads "
    "standard input.",
)
@click.option(
    "--all-found",
    is_flag=True,
    help="Add everyone you follow or who follows you that was found on the network.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option(
    "--background",
    is_flag=True,
    help="Plan, then let the background worker add the members.",
)
@click.pass_context
def rebuild(
    ctx: click.Context,
    x_list: str,
    name: str | None,
    network: str,
    handle: str | None,
    members_file,
    all_found: bool,
    as_json: bool,
    background: bool,
) -> None:
    """Rebuild one list you created on X, with members found on the new network.

    X_LIST is the list's number or address (see `hirondelle lists`). Run it
    again with more members to add them; members left out that were not added
    yet are dropped. On Mastodon, members are followed first (Mastodon only
    lists people you follow). Nothing is added twice and the list is created
    once.

    \b
    Example:
        hirondelle lists rebuild https://twitter.com/i/lists/123 --name Friends \\
            --to bluesky --members-file friends.txt
    """
    setup_django()
    ensure_database()
    from hirondelle.migration.services.lists import (
        ListsError,
        candidates,
        default_name,
        find_list,
        resolve_handles,
        save_rebuild,
    )

    if bool(members_file) == all_found:
        raise click.UsageError("Choose the members: give either --members-file F or --all-found.")
    from hirondelle.cli.match import pick_account

    account = pick_account(network, handle)
    migration = _migration()
    try:
        imported = find_list(migration, x_list)
        not_found = []
        if all_found:
            members = [c.x_id for c in candidates(migration, account)]
        else:
            resolution = resolve_handles(migration, account, members_file.read())
            members = [c.x_id for c in resolution.found]
            not_found = resolution.not_found
        outcome = save_rebuild(
            imported, account, name=name or default_name(imported), members=members
        )
    except ListsError as e:
        raise click.ClickException(str(e)) from e
    summary = {
        "list": imported.url,
        "name": outcome.rebuild.name,
        "account": account.handle,
        "members": outcome.members,
        "added": outcome.added + outcome.revived,
        "removed": outcome.removed,
        "kept_on_network": outcome.kept_on_network,
        "follows_planned": outcome.follows_planned,
        "not_found": [{"line": n.line, "reason": n.reason, "why": n.message} for n in not_found],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"{summary['name']!r} on {network} {account.handle}: {outcome.members} members, "
            f"{summary['added']} newly planned, {outcome.removed} dropped"
            + (
                f", {outcome.follows_planned} follows planned first"
                if outcome.follows_planned
                else ""
            )
        )
        if outcome.kept_on_network:
            click.echo(
                f"  {outcome.kept_on_network} left out were already added: "
                f"remove them on {network}."
            )
        for n in not_found:
            click.echo(f"  not found: {n.line}: {n.message}", err=True)
        if outcome.rebuild.remote_list_id and name and outcome.rebuild.name != name:
            click.echo("  The list already exists on the network: rename it there.", err=True)
    sys.stdout.flush()
    ctx.invoke(run, background=background, handle=account.handle, dry_run=False)
