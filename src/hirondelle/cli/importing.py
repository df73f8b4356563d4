"""`hirondelle import ARCHIVE`: read an X archive into the local database."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hirondelle.cli._django import ensure_database, local_user, setup_django


@click.command("import")
@click.argument("archive", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--allow-older",
    is_flag=True,
    help="Import even if this archive is older than the one imported before "
    "(it would bring back people you unfollowed since).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_archive(archive: Path, allow_older: bool, as_json: bool) -> None:
    """Import an X archive (zip or unzipped folder) as your migration.

    Reads your account, the people you follow, your followers, blocks, mutes,
    lists and posts. Importing a newer archive later updates everything and
    marks who you no longer follow. Nothing leaves this machine.

    \b
    Example:
        hirondelle import ~/Downloads/twitter-2026-01-15-abc.zip
    """
    setup_django()
    ensure_database()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from hirondelle.archive import ArchiveError
    from hirondelle.migration.services.importing import ImportRefused
    from hirondelle.migration.services.importing import import_archive as run_import

    console = Console(stderr=True)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,}"),
            console=console,
            transient=True,
            disable=as_json,
        ) as progress:
            tasks: dict[str, int] = {}

            def report(kind: str, done: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(f"Importing {kind}", total=None)
                progress.update(tasks[kind], completed=done)

            result = run_import(
                archive, owner=local_user(), progress=report, allow_older=allow_older
            )
    except (ArchiveError, ImportRefused) as exc:
        raise click.ClickException(str(exc)) from exc
    m = result.migration
    if as_json:
        click.echo(
            json.dumps(
                {
                    "migration": m.pk,
                    "created": result.created,
                    "counts": result.counts,
                    "gone": result.gone,
                    "skipped": result.skipped,
                }
            )
        )
        return
    verb = "Imported" if result.created else "Updated"
    c = result.counts
    click.echo(
        f"{verb} the migration of @{m.x_username}: {c['following']:,} following, "
        f"{c['followers']:,} followers, {c['blocks']:,} blocks, {c['mutes']:,} mutes, "
        f"{c['lists']:,} lists, {c['posts']:,} posts."
    )
    named = c.get("named", {}).get("following", 0)
    if named:
        click.echo(
            f"Your posts name {named:,} of the {c['following']:,} accounts you follow "
            "(see `hirondelle discover --offline`)."
        )
    gone = {k: v for k, v in result.gone.items() if v}
    if gone:
        click.echo(
            "No longer in this archive (marked gone): "
            + ", ".join(f"{v:,} {k}" for k, v in gone.items())
            + "."
        )
    if result.skipped:
        click.echo(f"Skipped {result.skipped:,} entries that were not X ids.")
    click.echo("Next: `hirondelle match` to see who is already on Mastodon and Bluesky.")
