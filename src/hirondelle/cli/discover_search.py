"""`hirondelle discover --search`: search the networks, with a progress bar.

The flag is the consent: the X usernames of the people the person follows
are sent to Bluesky's public search and to their own Mastodon server.
"""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["search_and_report"]


def _candidate_dict(c: Any) -> dict:
    from hirondelle.identity.models import x_id_from_db

    return {
        "x_id": str(x_id_from_db(c.x_account_id)),
        "x_username": c.x_username,
        "network": c.network,
        "handle": c.handle,
        "account": c.account,
        "evidence": c.evidence,
        "preselected": c.preselected,
    }


def search_and_report(migration: Any, *, as_json: bool, graph: dict | None = None) -> None:
    """Run (or resume) discovery in the foreground, then print what it found."""
    from hirondelle.migration.services import discovery

    run = discovery.start_discovery(migration, consent=True)
    if as_json:
        ran = discovery.run_discovery_locked(migration.pk)
    else:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("searching the networks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("search", total=run.total or None, completed=run.searched)

            def advance(r: Any) -> None:
                bar.update(task, completed=r.searched, total=max(r.total, r.searched) or None)

            ran = discovery.run_discovery_locked(migration.pk, on_progress=advance)
    if ran is None:
        raise click.ClickException(
            "Another search for this archive is running (started on the web page, or by a "
            "command stopped less than a few minutes ago): watch it on the page, or run "
            "this again in a few minutes; it resumes where it stopped."
        )
    run = ran
    found = discovery.candidates_for(migration)
    requests = {"bluesky": 0, "mastodon": 0, **(run.requests or {})}
    people = len({c.x_account_id for c in found})
    if as_json:
        out: dict[str, Any] = {}
        if graph is not None:
            out["graph"] = graph
        out["candidates"] = [_candidate_dict(c) for c in found]
        out["requests"] = requests
        out["search"] = {
            "state": run.state,
            "searched": run.searched,
            "total": run.total,
            "people_found": people,
            "error": run.error,
        }
        click.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Found by searching the networks (for your review only)")
    for name in ("X account", "network", "handle", "evidence", "preselected"):
        table.add_column(name)
    for c in found:
        table.add_row(
            f"@{c.x_username}",
            c.network,
            c.handle,
            c.evidence,
            "yes" if c.preselected else "",
        )
    if found:
        console.print(table)
    total = sum(requests.values())
    per = f"{total / people:.1f}" if people else "-"
    console.print(
        f"Searched {run.searched:,} of {run.total:,} named accounts: {people:,} may be found "
        f"({sum(c.preselected for c in found):,} preselected). Requests: "
        f"Bluesky {requests['bluesky']:,}, Mastodon {requests['mastodon']:,} ({per} per person)."
    )
    if run.state == "waiting":
        console.print(
            f"[yellow]Paused by a network's limit[/]: {run.error} Run the command again later; "
            "it resumes where it stopped."
        )
    elif run.state == "failed":
        raise click.ClickException(f"The search stopped: {run.error} Run it again to resume.")
    if not run.requests.get("mastodon") and not any(c.network == "mastodon" for c in found):
        console.print(
            "Connect your Mastodon account (`hirondelle connect mastodon`) to search the "
            "fediverse too."
        )
    console.print(
        "Nothing is followed yet. Only what is ticked becomes part of your plan "
        "(`hirondelle plan`): the preselected ones, or what you change on the web page's "
        "review of the people found."
    )
