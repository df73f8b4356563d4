"""`hirondelle archive …`: read an X archive without touching the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hirondelle.archive import ArchiveError, open_archive, summarize

if TYPE_CHECKING:
    from rich.console import Console

#: Show a progress bar when the data files to read exceed this many bytes.
PROGRESS_THRESHOLD = 32 << 20


@click.group()
def archive() -> None:
    """Look inside an X archive (nothing is stored or sent)."""


@archive.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def inspect(path: Path, as_json: bool) -> None:
    """Summarise an X archive: account, posts, network, private files.

    PATH is the .zip X sent you, or the folder it unzips to. Private files
    (direct messages, IP logs, contacts…) are listed by name, never opened.

    \b
    Example:
        hirondelle archive inspect twitter-2024-05-01-….zip
        hirondelle archive inspect --json twitter-2024-05-01-….zip
    """
    try:
        with open_archive(path, prefetch=_threads()) as x:
            total = x.data_size()
            if total >= PROGRESS_THRESHOLD and sys.stderr.isatty():
                # rich is imported only here and for the table: `--json` starts faster.
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    DownloadColumn,
                    Progress,
                    TextColumn,
                    TimeRemainingColumn,
                )

                with Progress(
                    TextColumn("Reading the archive"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=True,
                ) as bar:
                    task = bar.add_task("read", total=total)
                    summary = summarize(x, progress=lambda n: bar.advance(task, n))
            else:
                summary = summarize(x)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    _print_summary(Console(), summary)


#: Table rows whose count comes from a data file, by the file's base name.
_MISSING_ROWS = {
    "tweets": "Own posts, all (replies included)",
    "tweet": "Own posts, all (replies included)",
    "following": "Following",
    "follower": "Followers",
    "block": "Blocked",
    "mute": "Muted",
    "like": "Likes",
    "lists-created": "Lists created",
    "lists-member": "Lists you are a member of",
    "tweets_media": "  media items",
    "tweet_media": "  media items",
}


def _print_summary(console: Console, s: dict) -> None:
    from rich.table import Table

    acct = s["account"]
    console.print(f"[bold]@{acct['username']}[/bold] ({acct['display_name']}), ", end="")
    console.print(f"X account id {acct['id'] or '?'}")
    console.print(
        f"Archive generated {s['generated_at'] or 'at an unknown date'} (format {s['era']}); "
        f"posts from {s['first_post_at'] or '–'} to {s['last_post_at'] or '–'}"
    )
    c = s["counts"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    # The first block adds up: every entry of the post files is one of its four lines.
    rows = [
        ("Entries in the post files", c["tweet_entries"]),
        ("  own posts", c["posts"] - c["community_posts"]),
        ("  own posts in X Communities", c["community_posts"]),
        ("  retweets", c["retweets"]),
        ("  earlier versions of edited posts", c["edit_versions_dropped"]),
        ("Own posts, all (replies included)", c["posts"]),
        ("  replies to others", c["replies_to_others"]),
        ("  thread replies (to own posts)", c["thread_replies"]),
        ("  long posts (full text from their note)", c["long_posts"]),
        ("  media items", c["media_items"]),
    ]
    if c.get("notes_unmatched"):
        rows.append(("Long-post notes matching no post", c["notes_unmatched"]))
    rows += [
        ("Following", c["following"]),
        ("Followers", c["followers"]),
        ("Blocked", c["blocks"]),
        ("Muted", c["mutes"]),
        ("Likes", c["likes"]),
        ("Lists created", c["lists_created"]),
        ("Lists you are a member of", c["lists_member"]),
    ]
    missing = s.get("missing") or ()
    absent = {_MISSING_ROWS.get(m["type"]) for m in missing}
    for label, value in rows:
        note = " [yellow](missing from the archive)[/yellow]" if label in absent else ""
        table.add_row(label, f"{value:,}{note}")
    console.print(table)
    named = s.get("named", {})
    if named:
        parts = [
            f"{named[key]:,} of {c[key]:,} {label}"
            for key, label in (
                ("following", "followed"),
                ("followers", "followers"),
                ("blocks", "blocked"),
                ("mutes", "muted"),
            )
            if c[key]
        ]
        if parts:
            console.print(
                "Named in your posts (a username to search for): " + ", ".join(parts) + "."
            )
    if missing:
        console.print(
            f"[bold yellow]Missing from this archive[/bold yellow] (its manifest lists them; "
            f"what they hold is not counted above): {', '.join(m['path'] for m in missing)}"
        )
    private = s["private_files_not_read"]
    if private:
        console.print(f"[dim]{len(private)} private files left unread: {', '.join(private)}[/dim]")
    for warning in s.get("warnings", ()):
        if warning.startswith("the manifest lists"):
            continue  # said above
        console.print(f"[yellow]warning:[/yellow] {warning}")


def _threads() -> bool:
    """The HIRONDELLE_ARCHIVE_THREADS setting, read without starting Django."""
    from hirondelle.config import archive_threads

    return archive_threads()
