"""What an import is doing (progress in numbers, for the upload page) and
what it found (a summary in sentences, and what the archive lacks).

Progress goes to a small JSON file beside the uploaded archive, not to the
database: the import is one transaction, so rows it writes are invisible to
the page until it ends. The file is replaced atomically and read by the page.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from django.utils.translation import gettext as _

from hirondelle.archive import ArchiveError, open_archive
from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services.storage import archive_folder

__all__ = [
    "ImportWatcher",
    "archive_facts",
    "error_text",
    "missing_parts",
    "read_progress",
]

log = logging.getLogger(__name__)

#: The manifest's data type for each part of the import.
MANIFEST_TYPES = {
    "following": ("following",),
    "followers": ("follower",),
    "blocks": ("block",),
    "mutes": ("mute",),
    "posts": ("tweets", "tweet"),
}
#: The order the importer reads them in (see migration.services.importing).
ORDER = ("following", "followers", "blocks", "mutes", "posts")


def _progress_path(upload: ArchiveUpload) -> Path:
    return archive_folder(upload).parent / "progress.json"


def archive_facts(upload: ArchiveUpload) -> tuple[dict[str, int], list[str]]:
    """From the archive's manifest: how many rows of each part to expect, and
    which parts the manifest lists but whose files are absent (a trimmed or
    partly re-zipped archive). An archive without a manifest tells nothing."""
    folder = archive_folder(upload)
    expected: dict[str, int] = {}
    missing: list[str] = []
    try:
        with open_archive(folder) as archive:
            types = archive.manifest.get("dataTypes") or {}
    except ArchiveError:
        return expected, missing
    if not isinstance(types, dict):
        return expected, missing
    for key, names in MANIFEST_TYPES.items():
        if key == "posts" and not upload.republish:
            continue
        for name in names:
            entry = types.get(name)
            if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
                continue
            total = 0
            absent = False
            for f in entry["files"]:
                if not isinstance(f, dict):
                    continue
                count = str(f.get("count", "0")).strip()
                n = int(count) if count.isdigit() else 0
                total += n
                name_in_zip = str(f.get("fileName", ""))
                if not name_in_zip or ".." in name_in_zip or name_in_zip.startswith("/"):
                    continue  # hostile or empty: tells nothing
                if n and not (folder / name_in_zip).is_file():
                    absent = True
            expected[key] = total
            if absent:
                missing.append(key)
            break
    return expected, missing


#: The archive reader's missing data types (`archive.Missing.type`), as the
#: parts the page names.
_PART_OF_TYPE = {
    "following": "following",
    "follower": "followers",
    "block": "blocks",
    "mute": "mutes",
    "tweets": "posts",
    "tweet": "posts",
    "note-tweet": "posts",
    "community-tweet": "posts",
    "tweets_media": "media",
    "tweet_media": "media",
    "community_tweet_media": "media",
    "lists-created": "lists",
    "lists-member": "lists",
    "lists-subscribed": "lists",
}


def missing_parts(missing) -> list[str]:
    """The parts of the archive (following, followers, blocks, mutes, posts,
    media, lists) that the manifest lists and the zip lacks, in that order."""
    found = {_PART_OF_TYPE[m.type] for m in missing if m.type in _PART_OF_TYPE}
    order = ("following", "followers", "blocks", "mutes", "posts", "media", "lists")
    return [part for part in order if part in found]


def error_text(code: str) -> str:
    """The page's words for an import's failure code (older rows hold sentences)."""
    texts = {
        "older": _(
            "This archive is older than the one you sent before: importing it would bring "
            "back people you have unfollowed since. Download a new archive from X (Settings "
            "→ Your account → Download an archive of your data) and send that one. Nothing "
            "was changed."
        ),
        "unreadable": _(
            "This file could not be read as an X archive. It should be the zip file X sent "
            "you (Settings → Your account → Download an archive of your data), unchanged. "
            "Nothing was changed: choose the file again, or download a new archive."
        ),
        "server": _(
            "The import stopped because of a problem on this site, not with your archive. "
            "Nothing was changed. Try again in a little while; the site's team has been told."
        ),
    }
    return str(texts.get(code, code))


class ImportWatcher:
    """The importer's progress callback: writes what is being read, how far,
    and the expected total, at most twice a second."""

    def __init__(self, upload: ArchiveUpload, expected: dict[str, int]) -> None:
        self.path = _progress_path(upload)
        self.expected = expected
        self.started = time.time()
        self.last = 0.0

    def __call__(self, step: str, done: int) -> None:
        now = time.time()
        if now - self.last < 0.5:
            return
        self.last = now
        self.write(step, done)

    def write(self, step: str, done: int) -> None:
        state = {
            "step": step,
            "done": done,
            "total": self.expected.get(step, 0),
            "expected": self.expected,
            "started": self.started,
            "updated": time.time(),
        }
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.path)
        except OSError:  # progress is a courtesy: never fail an import for it
            log.warning("could not write import progress to %s", self.path)


def read_progress(upload: ArchiveUpload) -> dict | None:
    """Where the import is: step, done, total, and an estimate of the seconds left
    (from the rows read so far against all the rows the manifest announces)."""
    try:
        state = json.loads(_progress_path(upload).read_text())
    except (OSError, ValueError):
        return None
    expected = state.get("expected") or {}
    step = state.get("step", "")
    done_before = (
        sum(expected.get(k, 0) for k in ORDER[: ORDER.index(step)] if k in expected)
        if step in ORDER
        else 0
    )
    read = done_before + int(state.get("done", 0))
    grand = sum(expected.values())
    elapsed = max(0.0, float(state.get("updated", 0)) - float(state.get("started", 0)))
    eta = None
    if grand and read and elapsed > 2 and read < grand:
        eta = elapsed * (grand - read) / read
    state["read"] = read
    state["grand_total"] = grand
    state["eta_seconds"] = eta
    return state
