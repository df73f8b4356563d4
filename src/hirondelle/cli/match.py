"""`hirondelle match`: who of your X graph is already on Mastodon and Bluesky."""

from __future__ import annotations

import json

import click

from hirondelle.cli._django import EVIDENCE_NAMES, ensure_database, local_user, setup_django


def pick_migration(account: str | None):  # -> hirondelle.migration.models.Migration
    """The migration a command acts on: the only one, or the one named by @username or X id."""
    from hirondelle.identity.models import x_id_to_db
    from hirondelle.migration.models import Migration

    migrations = Migration.objects.filter(owner=local_user()).select_related("x_account")
    if account:
        name = account.removeprefix("@")
        if name.isdigit():
            migrations = migrations.filter(x_account_id=x_id_to_db(name))
        else:
            migrations = migrations.filter(x_username__iexact=name)
    found = list(migrations[:2])
    if not found:
        raise click.ClickException(
            "No imported archive"
            + (f" for {account}" if account else "")
            + ": run `hirondelle import ARCHIVE` first."
        )
    if len(found) > 1:
        names = ", ".join(f"@{m.x_username}" for m in migrations)
        raise click.ClickException(f"Several X accounts are imported ({names}): pass --account.")
    return found[0]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON, for machines.")
@click.option(
    "--trust",
    type=click.Choice(EVIDENCE_NAMES),
    help="Act automatically only on links with at least this evidence "
    "(default: the level you chose; `domain` unless changed).",
)
@click.option(
    "--save",
    is_flag=True,
    help="Keep the --trust level as your choice for this migration (plans use it).",
)
@click.option("--account", help="Which imported X account (@username or id), if several.")
def match(as_json: bool, trust: str | None, save: bool, account: str | None) -> None:
    """Match your X graph against the directory.

    Shows, per network, how many of the people you follow, your followers,
    blocks and mutes are found, how many can be acted on automatically, and
    how many need your review (weaker evidence, missing consent, or a
    conflict between two claims).

    \b
    Example:
        hirondelle match
        hirondelle match --json --trust roster
        hirondelle match --trust x_oauth --save
    """
    setup_django()
    ensure_database()
    from hirondelle.migration.services.discovery_names import match_advice
    from hirondelle.migration.services.matching import count_matches, graph_conflicts

    migration = pick_migration(account)
    if save:
        if not trust:
            raise click.UsageError("--save keeps the level given with --trust: pass both.")
        migration.trust_threshold = trust
        migration.save(update_fields=["trust_threshold", "updated_at"])
    counts = count_matches(migration, trust=trust)
    if as_json:
        click.echo(json.dumps(counts))
        return
    from rich.console import Console
    from rich.table import Table

    level = trust or migration.trust_threshold
    table = Table(title=f"@{migration.x_username}: trust level {level}")
    table.add_column("")
    for network in ("mastodon", "bluesky"):
        table.add_column(f"{network} found", justify="right")
        table.add_column("auto", justify="right")
        table.add_column("review", justify="right")
    for direction, networks in counts.items():
        cells = []
        for n in ("mastodon", "bluesky"):
            auto, review = networks[n]["auto"], networks[n]["review"]
            cells += [f"{auto + review:,}", f"{auto:,}", f"{review:,}"]
        table.add_row(direction, *cells)
    console = Console()
    console.print(table)
    _print_advice(console, match_advice(migration, counts))
    open_conflicts = [c for c in graph_conflicts(migration) if not c.resolved]
    if open_conflicts:
        console.print(
            f"[yellow]{len(open_conflicts)} conflict(s)[/]: two claims for the same X account "
            "on one network. The stronger evidence wins; ties wait for review."
        )
        for c in open_conflicts[:10]:
            verdict = "tie, review only" if c.winner_link_id is None else "stronger evidence wins"
            console.print(f"  X id {c.x_id} on {c.network}: {c.contenders} claims ({verdict})")


def _print_advice(console, advice) -> None:  # advice: discovery_names.MatchAdvice
    """Never a bare zero: why little was found, and what to do next."""
    from hirondelle.migration.services.discovery_names import Why

    if advice.why is None:
        return
    if advice.why is Why.NO_DIRECTORY:
        console.print(
            "[bold]Nobody found: no directory is imported yet.[/] Hirondelle only knows "
            "who moved where from a directory (a portal's snapshot, an institution's "
            "roster) or from what you search for."
        )
    elif advice.why is Why.NOBODY_YET:
        console.print(
            "[bold]Nobody found yet:[/] the directory knows people, but nobody of your "
            "network is in it yet."
        )
    else:
        console.print(
            f"[bold]Only {advice.found:,} of the {advice.following:,} accounts you follow "
            "were found[/] in the directory."
        )
    console.print("What to do next:")
    if advice.named_following:
        claims = (
            f", {advice.claims_following:,} of them with a new address in their X name "
            "(see `hirondelle discover --offline`)"
            if advice.claims_following
            else ""
        )
        console.print(
            f"  • search the networks for the {advice.named_following:,} accounts you follow "
            f"that your posts name{claims}: `hirondelle discover --search`"
        )
    else:
        console.print(
            "  • search the networks for the people you follow: `hirondelle discover --search`"
        )
    console.print(
        "  • import a portal's directory: `hirondelle directory import SNAPSHOT.jsonl` "
        "(trust its key first: `hirondelle directory trust NAME KEY`)"
    )
