"""The archive package's public surface stays explicit and stable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import hirondelle.archive as archive
from hirondelle.archive.records import Media, MediaKind, Mention, Post
from hirondelle.archive.tweets import _make_post


def test_exported_members() -> None:
    assert archive.__all__ == sorted(archive.__all__)
    for name in archive.__all__:
        assert getattr(archive, name) is not None
    for name in ("open_archive", "XArchive", "ArchiveError", "summarize", "Post", "EdgeKind"):
        assert name in archive.__all__


def test_fast_post_constructor_equals_the_dataclass() -> None:
    """The reader builds posts without the frozen __init__; the result must be identical."""
    values = {
        f.name: f"v-{f.name}" for f in dataclasses.fields(Post) if f.type in ("str", "str | None")
    }
    values.update(
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        is_retweet=True,
        mentions=(Mention("a", "1"),),
        media=(Media(MediaKind.PHOTO, "u", None),),
        urls=("https://x",),
        edit_ids=("1", "2"),
    )
    assert _make_post(**values) == Post(**values)
    minimal = {"id": "1", "created_at": values["created_at"], "text": "t"}
    assert _make_post(**minimal) == Post(**minimal)
    assert hash(_make_post(**minimal)) == hash(Post(**minimal))
