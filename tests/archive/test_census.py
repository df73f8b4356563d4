"""`inspect` counts posts without building them: the same summary as building them.

`summarize(archive)` counts with `XArchive.count_posts` (a lean decode,
see `archive.census`); `summarize(archive, fast=False)` builds every post
as the import does. Both must give the same JSON for every archive the
generator makes: every era, parts, layouts, edits, notes, media present or
not, names, missing files.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hirondelle.archive import ArchiveError, open_archive, summarize
from hirondelle.archive.tweets import _common_prefix
from tests.archive.test_properties import specs
from tests.support.x_archive import (
    ArchiveSpec,
    MediaSpec,
    TweetSpec,
    add_names,
    pack,
    render_files,
    sample_spec,
    write_archive,
)


def _both(path: Path) -> tuple[dict, dict]:
    with open_archive(path) as archive:
        full = summarize(archive, fast=False)
    with open_archive(path) as archive:
        fast = summarize(archive)
    return full, fast


def _assert_same(path: Path) -> dict:
    full, fast = _both(path)
    assert json.dumps(fast, sort_keys=True) == json.dumps(full, sort_keys=True)
    return full


@pytest.mark.parametrize("era", ["2024", "2021", "2019"])
@pytest.mark.parametrize("seed", range(6))
def test_sample_archives_count_the_same(tmp_path, era, seed) -> None:
    spec = sample_spec(seed, n_posts=400, n_following=60, n_followers=80)
    add_names(spec, seed=seed)
    base = "tweets" if era == "2024" else "tweet"
    path = write_archive(
        tmp_path,
        spec,
        era=era,
        parts={base: 1 + seed % 3, "follower": 1 + seed % 2},
        seed=seed,
        zipped=seed % 2 == 0,
        wrap_folder=seed == 3,
    )
    summary = _assert_same(path)
    # The comparison means something: these archives have all of it.
    counts = summary["counts"]
    for key in ("posts", "retweets", "long_posts", "thread_replies", "replies_to_others"):
        assert counts[key], key
    assert counts["media_items"]
    assert counts["edit_versions_dropped"]
    assert summary["accounts_named"]
    assert any(summary["named"].values())


def test_missing_files_and_media_folders_count_the_same(tmp_path) -> None:
    spec = sample_spec(4, n_posts=200)
    path = write_archive(
        tmp_path,
        spec,
        omit=["data/follower.js", "data/tweets_media/", "data/community_tweet_media/"],
        partial=True,
    )
    summary = _assert_same(path)
    assert summary["missing"]
    assert summary["warnings"]


def test_2019_compressed_nested_media_count_the_same(tmp_path) -> None:
    path = write_archive(tmp_path, sample_spec(2, n_posts=150), era="2019", nested_stored=False)
    assert _assert_same(path)["warnings"]


@pytest.mark.parametrize(
    "transform",
    [
        lambda b: b + b";\n",
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b.replace(b"\n", b"\r\n"),
        lambda b: (
            b.split(b"=", 1)[0] + b"= " + json.dumps(json.loads(b.split(b"=", 1)[1])).encode()
        ),
        lambda b: (
            b.split(b"=", 1)[0]
            + b"=\n"
            + json.dumps(json.loads(b.split(b"=", 1)[1]), indent="\t").encode()
        ),
        lambda b: b.replace(b"[]", b"[ ]").replace(b"{}", b"{ }"),
    ],
    ids=["semicolon", "bom", "crlf", "minified", "tabs", "spaced-empties"],
)
def test_unusual_layouts_count_the_same(tmp_path, transform) -> None:
    files = render_files(sample_spec(9, n_posts=150, n_following=20), parts={"tweets": 2})
    for name in list(files):
        if files[name].startswith(b"window.YTD."):  # data files (not the manifest, not private)
            files[name] = transform(files[name])
    _assert_same(pack(tmp_path, files))


T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_long_posts_sharing_a_second_count_the_same(tmp_path) -> None:
    """Several posts of a thread per second, some long: notes are matched in order."""
    own = sample_spec(1, n_posts=1).account
    filler = " ".join(["word"] * 60)
    tweets = []
    for n in range(12):
        text = f"part {n % 3} of the thread {filler} https://long.example/{n} end"
        tweets.append(
            TweetSpec(
                id=str(1760000000000000000 + n * 1000),
                created_at=T0 + timedelta(seconds=3 * (n // 4)),
                text=text if n % 2 else f"short {n}",
                urls=(f"https://long.example/{n}",) if n % 2 else (),
                long=bool(n % 2),
                long_form=("ellipsis", "ellipsis_links", "bare")[n % 3],
                media=(MediaSpec("photo", f"m{n}", present=n % 4 != 1),) if n % 3 == 0 else (),
                reply_to_screen_name=own.username if n else None,
            )
        )
    spec = ArchiveSpec(account=own, tweets=tweets)
    summary = _assert_same(write_archive(tmp_path / "a", spec))
    assert summary["counts"]["long_posts"] > 0
    # Notes a second off their post (X allows it; the generator writes the same second).
    files = render_files(spec)
    head, _, body = files["data/note-tweet.js"].partition(b"=")
    notes = json.loads(body)
    for k, item in enumerate(notes):
        when = datetime.fromisoformat(item["noteTweet"]["createdAt"].replace("Z", "+00:00"))
        shifted = when + timedelta(seconds=(-1, 1)[k % 2])
        item["noteTweet"]["createdAt"] = shifted.isoformat().replace("+00:00", "Z")
    files["data/note-tweet.js"] = head + b"= " + json.dumps(notes, indent=2).encode()
    shifted_summary = _assert_same(pack(tmp_path / "b", files))
    assert shifted_summary["counts"]["long_posts"] > 0


_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(
    spec=specs(),
    era=st.sampled_from(["2024", "2021", "2019"]),
    same_second=st.booleans(),
    zipped=st.booleans(),
)
def test_generated_archives_count_the_same(tmp_path_factory, spec, era, same_second, zipped):
    if same_second:  # every post in one second: every long post is a candidate for every note
        spec.tweets = [replace(t, created_at=T0) for t in spec.tweets]
    path = write_archive(
        tmp_path_factory.mktemp("c"), spec, era=era, zipped=zipped, parts={"tweets": 2, "tweet": 2}
    )
    _assert_same(path)


@given(st.text(alphabet="ab", max_size=12), st.text(alphabet="ab", max_size=12))
def test_common_prefix_by_halving(a: str, b: str) -> None:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    assert _common_prefix(a, b) == n


def test_inflating_in_a_thread_reads_the_same_and_fails_the_same(tmp_path, monkeypatch) -> None:
    """Members inflated ahead by a thread (`container._Prefetch`, opt-in), in small chunks."""
    from hirondelle.archive import container

    spec = sample_spec(5, n_posts=300, n_following=50)
    path = write_archive(tmp_path / "a", spec, parts={"tweets": 2})
    monkeypatch.setattr(container, "PREFETCH", False)
    _, plain = _both(path)
    monkeypatch.setattr(container, "PREFETCH", True)
    monkeypatch.setattr(container, "PREFETCH_MIN_BYTES", 0)
    monkeypatch.setattr(container, "_PREFETCH_CHUNK", 997)
    monkeypatch.setattr(container, "_PREFETCH_AHEAD", 2)
    threaded = _assert_same(path)
    assert threaded == plain
    with open_archive(path) as archive:
        name = archive.data_files("tweets")[0]
        with archive._open_data(name) as stream:
            assert isinstance(stream, container._Prefetch)
            assert stream.read(10).startswith(b"window.")
    # A damaged member: the thread's error is raised by the reading thread, as an ArchiveError.
    blob = bytearray(path.read_bytes())
    at = blob.index(b"data/tweets.js") + 4000
    blob[at : at + 64] = bytes(64)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(blob))
    with pytest.raises(ArchiveError), open_archive(damaged) as archive:
        summarize(archive)


_X_TIME_CHARS = st.sampled_from(list("0123456789 :+-MonDecJanFebTuWdThSaZ\t٣x"))


@settings(max_examples=400, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    edits=st.lists(st.tuples(st.integers(0, 29), _X_TIME_CHARS), max_size=3),
)
def test_x_time_fast_path_parses_as_the_general_way(when, edits) -> None:
    """X's fixed-width UTC dates take a fast path; near-misses must parse as before."""
    from hirondelle.archive.tweets import _parse_x_time_split, parse_x_time

    text = list(when.strftime("%a %b %d %H:%M:%S +0000 ") + f"{when.year:04d}")
    for at, char in edits:
        text[at] = char
    value = "".join(text)
    assert parse_x_time(value) == _parse_x_time_split(value)
    if not edits:
        assert parse_x_time(value) == when.replace(microsecond=0)


@pytest.mark.parametrize("kept", [0, 12, 60])
def test_note_starts_shorter_than_post_texts_count_the_same(tmp_path, monkeypatch, kept) -> None:
    """The note index keeps each note's first characters only (`NOTE_PREFIX_CHARS`).

    A post text longer than that is compared with whole note texts (kept by
    the import, read again by `inspect`): same matches, same counts, as with
    the whole texts at hand.
    """
    spec = sample_spec(5, n_posts=160)
    path = write_archive(tmp_path, spec)
    reference = _assert_same(path)
    assert reference["counts"]["long_posts"] > 0
    monkeypatch.setattr("hirondelle.archive.tweets.NOTE_PREFIX_CHARS", kept)
    assert _assert_same(path) == reference
