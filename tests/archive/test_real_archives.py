"""What real archives do that tidy ones do not: trimmed zips, long posts, retweets."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from hirondelle.archive import Account, PostStats, open_archive, summarize
from hirondelle.cli import main
from tests.support.x_archive import (
    _TWEPOCH_MS,
    ArchiveSpec,
    MediaSpec,
    TweetSpec,
    expected_posts,
    pack,
    render_files,
    sample_spec,
    snowflake,
    write_archive,
)


def _with_media(spec):
    """Make sure the spec has posts with media files (to lose their folder)."""
    when = spec.tweets[-1].created_at
    rng = random.Random(1)
    for n in range(2):
        when = when + timedelta(hours=1)
        spec.tweets.append(
            TweetSpec(
                id=snowflake(when, rng),
                created_at=when,
                text=f"a picture {n}",
                media=(MediaSpec("photo", f"pic{n}"),),
            )
        )
    return spec


# ------------------------------------------------------------------ missing files


def test_files_the_manifest_lists_and_the_zip_lacks_are_named(tmp_path) -> None:
    spec = _with_media(sample_spec(3, n_posts=30, n_following=5, n_followers=8))
    path = write_archive(
        tmp_path,
        spec,
        parts={"follower": 2},
        omit=("data/following.js", "data/follower-part1.js", "data/like.js", "data/tweets_media/"),
    )
    with open_archive(path) as archive:
        summary = summarize(archive)
    missing = {m["path"]: m["type"] for m in summary["missing"]}
    assert missing == {
        "data/following.js": "following",
        "data/follower-part1.js": "follower",
        "data/like.js": "like",
        "data/tweets_media/": "tweets_media",
    }
    assert summary["counts"]["following"] == 0
    assert 0 < summary["counts"]["followers"] < 8
    assert any("data/following.js" in w for w in summary["warnings"])
    assert any("data/tweets_media/" in w for w in summary["warnings"])


def test_a_complete_archive_misses_nothing(tmp_path) -> None:
    spec = _with_media(sample_spec(3, n_posts=30))
    with open_archive(write_archive(tmp_path, spec)) as archive:
        summary = summarize(archive)
    assert summary["missing"] == []
    assert not any("manifest lists" in w for w in summary["warnings"])


def test_an_archive_without_media_does_not_need_the_media_folder(tmp_path) -> None:
    spec = sample_spec(3, n_posts=10)
    spec.tweets = [t for t in spec.tweets if not t.media]
    path = write_archive(tmp_path, spec, omit=("data/tweets_media/",))
    with open_archive(path) as archive:
        assert summarize(archive)["missing"] == []


def test_private_files_are_not_called_missing(tmp_path) -> None:
    """A trimmed upload lacks direct messages on purpose: that is no loss."""
    spec = sample_spec(3, n_posts=10)
    path = write_archive(tmp_path, spec, omit=("data/direct-messages.js",))
    with open_archive(path) as archive:
        assert summarize(archive)["missing"] == []


def test_inspect_says_what_is_missing(tmp_path) -> None:
    spec = sample_spec(3, n_posts=10, n_following=4)
    path = write_archive(tmp_path, spec, omit=("data/following.js",))
    out = CliRunner().invoke(main, ["archive", "inspect", "--json", str(path)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["missing"] == [{"type": "following", "path": "data/following.js"}]
    table = CliRunner().invoke(main, ["archive", "inspect", str(path)])
    assert table.exit_code == 0, table.output
    line = next(ln for ln in table.output.splitlines() if ln.startswith("Following"))
    assert "missing from the archive" in line
    assert "Missing from this archive" in table.output
    assert "data/following.js" in table.output


# ------------------------------------------------------------------ long posts

ME = Account("111", "swallow", "Swallow", datetime(2012, 1, 1, tzinfo=UTC))
SECOND = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def _ids_in_one_second(n: int) -> list[str]:
    """Snowflake ids minted within SECOND, a few milliseconds apart (a thread posted at once)."""
    base = int(SECOND.timestamp() * 1000) - _TWEPOCH_MS
    return [str(((base + 40 * k + 3) << 22) | k) for k in range(n)]


def _words(tag: str, n: int = 70) -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


@pytest.mark.parametrize("form", ["ellipsis", "ellipsis_links", "bare"])
def test_every_truncated_form_gets_its_note(tmp_path, form) -> None:
    long = TweetSpec(
        id=_ids_in_one_second(1)[0],
        created_at=SECOND,
        text=_words("w") + " https://example.org/x the end",
        urls=("https://example.org/x",),
        media=(MediaSpec("photo", "pic"),),
        long=True,
        long_form=form,
    )
    files = render_files(ArchiveSpec(account=ME, tweets=[long]))
    full_text = json.loads(files["data/tweets.js"].partition(b"=")[2])[0]["tweet"]["full_text"]
    if form == "ellipsis":
        assert re.search(r"… https://t\.co/\w+$", full_text)  # only the media link after it
    elif form == "ellipsis_links":
        assert re.search(r"… https://t\.co/\w+ https://t\.co/\w+$", full_text)
    else:
        assert "…" not in full_text
    with open_archive(write_archive(tmp_path, ArchiveSpec(account=ME, tweets=[long]))) as a:
        stats = PostStats()
        (post,) = list(a.posts(stats=stats))
    assert post.is_long
    assert post.text == long.text
    assert stats.notes_unmatched == []


@pytest.mark.parametrize("lead", ["words then ", ""])
def test_a_long_post_cut_right_after_a_link_gets_its_note(tmp_path, lead) -> None:
    """X glues the `…` to a link when the cut falls just after it; with nothing but
    links before the cut, only the time is left to match by (hypothesis found it)."""
    links = [f"https://example.org/page-{i}?a=x&b=2" for i in range(7)]
    opening = lead + " ".join(links)
    assert 240 < len(opening) < 260  # the generator cuts at the last space before 260
    long = TweetSpec(
        id=_ids_in_one_second(1)[0],
        created_at=SECOND,
        text=f"{opening} {'longword' * 4} {_words('tail')}",  # the cut cannot reach it
        urls=tuple(links),
        long=True,
    )
    spec = ArchiveSpec(account=ME, tweets=[long])
    full_text = json.loads(render_files(spec)["data/tweets.js"].partition(b"=")[2])[0]["tweet"][
        "full_text"
    ]
    assert re.search(r"https://t\.co/\w+…$", full_text)
    path = write_archive(tmp_path, spec)
    with open_archive(path) as archive:
        stats = PostStats()
        (post,) = list(archive.posts(stats=stats))
    assert post.is_long
    assert post.text == long.text
    assert stats.notes_unmatched == []
    with open_archive(path) as archive:
        assert summarize(archive) == summarize(archive, fast=False)


def test_a_thread_posted_in_one_second_gets_each_note_right(tmp_path) -> None:
    """Four long posts and a short one of one thread, all in one second, every form."""
    ids = _ids_in_one_second(5)
    forms = ["ellipsis", "bare", "ellipsis_links", "ellipsis"]
    tweets = []
    for k, form in enumerate(forms):
        # Posts 0 and 3 start alike: only the longest shared prefix tells them apart.
        opening = "The plan, part one:" if k in (0, 3) else f"Part {k}:"
        tail = _words("a" if k == 0 else f"p{k}x")
        tweets.append(
            TweetSpec(
                id=ids[k],
                created_at=SECOND,
                text=f"{opening} {tail}",
                reply_to=ids[k - 1] if k else None,
                reply_to_user_id=ME.id if k else None,
                long=True,
                long_form=form,
            )
        )
    # A complete short post of the same second that starts like post 1's note.
    tweets.append(TweetSpec(id=ids[4], created_at=SECOND, text="Part 1: more"))
    spec = ArchiveSpec(account=ME, tweets=tweets)
    with open_archive(write_archive(tmp_path, spec, parts={"tweets": 2})) as archive:
        stats = PostStats()
        got = sorted(archive.posts(stats=stats), key=lambda p: int(p.id))
    assert got == expected_posts(spec)
    assert [p.is_long for p in got] == [True, True, True, True, False]
    assert stats.notes_unmatched == []


def test_a_note_matching_no_post_is_reported(tmp_path) -> None:
    kept = TweetSpec(id=_ids_in_one_second(1)[0], created_at=SECOND, text=_words("k"), long=True)
    lost = TweetSpec(
        id=str(int(kept.id) + (10**6 << 22)),
        created_at=SECOND.replace(hour=9),
        text=_words("l"),
        long=True,
    )
    files = render_files(ArchiveSpec(account=ME, tweets=[kept, lost]))
    head, _, body = files["data/tweets.js"].partition(b"=")
    items = [i for i in json.loads(body) if i["tweet"]["id_str"] != lost.id]  # post deleted
    files["data/tweets.js"] = head + b"= " + json.dumps(items).encode()
    with open_archive(pack(tmp_path, files)) as archive:
        summary = summarize(archive)
    assert summary["counts"]["notes"] == 2
    assert summary["counts"]["notes_unmatched"] == 1
    assert summary["counts"]["long_posts"] == 1
    assert any("match no post" in w for w in summary["warnings"])


# ------------------------------------------------------------------ retweets


def test_every_retweet_form_is_a_retweet(tmp_path) -> None:
    base = int(SECOND.timestamp() * 1000) - _TWEPOCH_MS
    ids = [str((base + 1000 * k) << 22) for k in range(4)]
    tweets = [
        # A link-only retweet: after expansion the text is only a URL.
        TweetSpec(
            id=ids[0],
            created_at=SECOND,
            text="https://example.org/article",
            urls=("https://example.org/article",),
            retweet_of="news",
        ),
        # A picture-only retweet: the media link is dropped, nothing is left.
        TweetSpec(
            id=ids[1],
            created_at=SECOND,
            text="",
            retweet_of="artist",
            media=(MediaSpec("photo", "art", source_post_id="99"),),
        ),
        # A retweet of a post that opens with a line break.
        TweetSpec(id=ids[2], created_at=SECOND, text="\nfirst line", retweet_of="poet"),
        TweetSpec(id=ids[3], created_at=SECOND, text="my own words"),
    ]
    spec = ArchiveSpec(account=ME, tweets=tweets)
    with open_archive(write_archive(tmp_path, spec)) as archive:
        got = {p.id: p for p in archive.posts()}
        summary = summarize(archive)
    assert [got[i].is_retweet for i in ids] == [True, True, True, False]
    assert [got[i].retweeted_screen_name for i in ids[:3]] == ["news", "artist", "poet"]
    assert summary["counts"]["retweets"] == 3
    assert summary["counts"]["posts"] == 1
    assert sorted(got.values(), key=lambda p: int(p.id)) == expected_posts(spec)


# ------------------------------------------------------------------ the table adds up


def _table_value(output: str, label: str) -> int:
    line = next(ln for ln in output.splitlines() if ln.strip().startswith(label))
    return int(line.rsplit(None, 1)[-1].replace(",", ""))


def test_inspect_table_adds_up(tmp_path) -> None:
    spec = sample_spec(7, n_posts=200)
    assert any(t.edits for t in spec.tweets)
    assert any(t.community for t in spec.tweets)
    path = write_archive(tmp_path, spec, parts={"tweets": 2})
    data = json.loads(CliRunner().invoke(main, ["archive", "inspect", "--json", str(path)]).output)
    c = data["counts"]
    assert c["tweet_entries"] == c["posts"] + c["retweets"] + c["edit_versions_dropped"]
    assert c["tweet_entries"] == sum(1 + len(t.edits) for t in spec.tweets)
    out = CliRunner().invoke(main, ["archive", "inspect", str(path)]).output
    parts = [
        _table_value(out, label)
        for label in (
            "own posts ",
            "own posts in X Communities",
            "retweets",
            "earlier versions of edited posts",
        )
    ]
    assert all(parts)
    assert _table_value(out, "Entries in the post files") == sum(parts) == c["tweet_entries"]


def test_one_part_of_a_split_archive_says_where_the_rest_is(tmp_path) -> None:
    spec = sample_spec(3, n_posts=10)
    omit = ("data/follower.js", "data/following.js")
    with open_archive(write_archive(tmp_path / "p", spec, omit=omit, partial=True)) as archive:
        summary = summarize(archive)
    assert len(summary["missing"]) == 2
    assert any("unzip every part into one folder" in w for w in summary["warnings"])
    # The same files lacking from an archive that is not split: no such advice.
    with open_archive(write_archive(tmp_path / "w", spec, omit=omit)) as archive:
        assert not any("several zip files" in w for w in summarize(archive)["warnings"])


@pytest.mark.parametrize("threads", [True, False])
def test_an_edited_long_post_uses_its_last_note_and_reports_none(tmp_path, threads) -> None:
    """Each version longer than 280 characters has a note of its own."""
    final_id = _ids_in_one_second(1)[0]
    first_id = str(int(final_id) - 5000)
    post = TweetSpec(
        id=final_id,
        created_at=SECOND,
        text=_words("final"),
        long=True,
        edits=((first_id, _words("first")),),
    )
    spec = ArchiveSpec(account=ME, tweets=[post])
    assert len(json.loads(render_files(spec)["data/note-tweet.js"].partition(b"=")[2])) == 2
    with open_archive(write_archive(tmp_path, spec)) as archive:
        stats = PostStats()
        (got,) = list(archive.posts(threads=threads, stats=stats))
    assert got.text == post.text
    assert got.edit_ids == (first_id, final_id)
    assert stats.notes_unmatched == []
