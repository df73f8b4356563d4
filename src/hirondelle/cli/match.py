"""`hirondelle match`: who of your X graph is already on Mastodon and Bluesky."""

from __future__ import annotations

import json

import click

from hirondelle.cli._django import EVIDENCE_NAMES, ensure_database, local_user, setup_django


def pick_migration(account: str | None):  # -> hirondelle.migration.models.Migration
    """The migration a command acts on (`choose_migration`, as the web pages choose).

    The one named by @username or X id, else the one imported last; when
    several are imported, says which one was taken.
    """
    from hirondelle.migration.models import Migration
    from hirondelle.migration.services.choosing import ChoiceError, choose_migration

    user = local_user()
    try:
        migration = choose_migration(user, account)
    except ChoiceError as e:
        raise click.ClickException(f"{e.message} (`hirondelle import ARCHIVE`)") from e
    others = Migration.objects.filter(owner=user).exclude(pk=migration.pk).count()
    if not account and others:
        click.echo(
            f"Using @{migration.x_username}, the last of {others + 1} imported X "
            "accounts (--account to choose another).",
            err=True,
        )
    return migration


def pick_account(network: str | None = None, handle: str | None = None):
    """The connected account a command acts on (`choose_account`, as the web pages choose)."""
    from hirondelle.migration.services.choosing import ChoiceError, choose_account

    try:
        return choose_account(local_user(), network=network, handle=handle)
    except ChoiceError as e:
        hint = f"`hirondelle connect {network}`" if network else "`hirondelle accounts`"
        raise click.ClickException(f"{e.message} (see {hint})") from e


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
        from hirondelle.portal.services.review import set_trust

        try:
            set_trust(migration, trust)
        except ValueError as e:
            raise click.UsageError(
                f"{trust} only proposes people for review; keep a level from "
                "self upwards (or review them on the page)."
            ) from e
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
