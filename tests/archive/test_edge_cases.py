"""Every edge case of the reference, one at a time, on hand-built archives."""

from __future__ import annotations

import json
import os
import re
import zipfile
from datetime import UTC, datetime

import pytest

from hirondelle.archive import Account, ArchiveError, MediaKind, open_archive
from hirondelle.archive.records import Mention
from tests.support.x_archive import (
    ArchiveSpec,
    MediaSpec,
    TweetSpec,
    expected_posts,
    pack,
    render_files,
    sample_spec,
    write_archive,
)

ME = Account("111", "swallow", "Swallow", datetime(2012, 1, 1, tzinfo=UTC))
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _tweet(n: int, text: str = "hello", **kw) -> TweetSpec:
    return TweetSpec(
        id=str(1700000000000000000 + n * 1000), created_at=T0.replace(minute=n), text=text, **kw
    )


def _posts(tmp_path, spec: ArchiveSpec, **kw):
    with open_archive(write_archive(tmp_path, spec, **kw)) as archive:
        return {p.id: p for p in archive.posts()}


def _js_items(blob: bytes) -> tuple[bytes, list]:
    head, _, body = blob.partition(b"=")
    return head + b"=", json.loads(body)


def _js(head: bytes, items: list) -> bytes:
    return head + b" " + json.dumps(items, indent=2, separators=(",", " : ")).encode()


# ----------------------------------------------------------------- text


def test_links_expand_by_code_point_then_unescape(tmp_path) -> None:
    text = "🐦🐦 R&D <b> see https://a.example/x?q=1&r=2 and &amp; then 🌍 https://b.example/ end"
    t = _tweet(1, text, urls=("https://a.example/x?q=1&r=2", "https://b.example/"))
    spec = ArchiveSpec(account=ME, tweets=[t])
    files = render_files(spec)
    raw = files["data/tweets.js"].decode()
    assert "R&amp;D &lt;b&gt;" in raw
    assert "&amp;amp;" in raw
    post = _posts(tmp_path, spec)[t.id]
    assert post.text == text
    assert post.urls == t.urls


def test_media_link_is_stripped_and_files_are_mapped(tmp_path) -> None:
    media = (MediaSpec("photo", "P1"), MediaSpec("photo", "P2", present=False))
    video = (MediaSpec("video", "V1", source_post_id="99"),)
    gif = (MediaSpec("animated_gif", "G1"),)
    tweets = [
        _tweet(1, "pics", media=media),
        _tweet(2, "clip", media=video),
        _tweet(3, "gif", media=gif),
    ]
    posts = _posts(tmp_path, ArchiveSpec(account=ME, tweets=tweets))
    p1, p2, p3 = (posts[t.id] for t in tweets)
    assert p1.text == "pics"
    assert "t.co" not in p1.text
    assert [m.path for m in p1.media] == [f"data/tweets_media/{tweets[0].id}-P1.jpg", None]
    assert p2.media[0].kind is MediaKind.VIDEO
    assert "1280x720/V1.mp4" in p2.media[0].url  # the highest bitrate variant
    assert p2.media[0].path == f"data/tweets_media/{tweets[1].id}-V1.mp4"
    assert p2.media[0].source_post_id == "99"
    assert p3.media[0].kind is MediaKind.GIF
    assert p3.media[0].path == f"data/tweets_media/{tweets[2].id}-G1.mp4"


def test_media_folder_of_the_2021_era(tmp_path) -> None:
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"),))
    posts = _posts(tmp_path, ArchiveSpec(account=ME, tweets=[t]), era="2021")
    assert posts[t.id].media[0].path == f"data/tweet_media/{t.id}-P1.jpg"


def test_retweet_and_quote(tmp_path) -> None:
    rt = _tweet(1, "their words", retweet_of="friend")
    q = _tweet(2, "look at this", quote=("someone", "123456789"))
    posts = _posts(tmp_path, ArchiveSpec(account=ME, tweets=[rt, q]))
    assert posts[rt.id].is_retweet
    assert posts[rt.id].retweeted_screen_name == "friend"
    assert posts[rt.id].text == "their words"
    assert posts[rt.id].thread_root_id is None
    assert posts[q.id].quoted_post_id == "123456789"
    assert posts[q.id].quoted_screen_name == "someone"
    assert posts[q.id].text == "look at this https://twitter.com/someone/status/123456789"


# ---------------------------------------------------------------- notes


def test_long_reply_note_gets_its_leading_mentions_back(tmp_path) -> None:
    body = "@other " + " ".join(f"word{i}" for i in range(80)) + " https://long.example/1 fin"
    t = _tweet(
        1,
        body,
        urls=("https://long.example/1",),
        mentions=(("other", "42"),),
        reply_to="5",
        reply_to_user_id="42",
        reply_to_screen_name="other",
        long=True,
    )
    spec = ArchiveSpec(account=ME, tweets=[t])
    files = render_files(spec)
    _, notes = _js_items(files["data/note-tweet.js"])
    assert not notes[0]["noteTweet"]["core"]["text"].startswith("@other")
    _, tweets = _js_items(files["data/tweets.js"])
    assert tweets[0]["tweet"]["full_text"].endswith("…")
    post = _posts(tmp_path, spec)[t.id]
    assert post.is_long
    assert post.text == body
    assert post.urls == ("https://long.example/1",)
    assert post.mentions == (Mention("other", "42"),)


def test_note_matches_by_time_and_prefix_not_by_time_alone(tmp_path) -> None:
    a = _tweet(1, "alpha " * 60 + "end", long=True)
    b = TweetSpec(
        id=str(int(a.id) + 1), created_at=a.created_at, text="beta " * 70 + "end", long=True
    )
    posts = _posts(tmp_path, ArchiveSpec(account=ME, tweets=[a, b]))
    assert posts[a.id].text == a.text
    assert posts[b.id].text == b.text


# ---------------------------------------------------------------- edits


def test_edits_collapse_to_the_last_version(tmp_path) -> None:
    t = _tweet(
        5,
        "final words",
        edits=(("1700000000000000001", "first"), ("1700000000000000002", "second")),
    )
    posts = _posts(tmp_path, ArchiveSpec(account=ME, tweets=[t]), parts={"tweets": 1})
    assert list(posts) == [t.id]
    assert posts[t.id].text == "final words"
    assert posts[t.id].edit_ids == ("1700000000000000001", "1700000000000000002", t.id)


@pytest.mark.parametrize("threads", [True, False])
def test_edit_whose_last_version_is_missing_keeps_the_latest_present(tmp_path, threads) -> None:
    t = _tweet(
        5,
        "final words",
        edits=(("1700000000000000001", "first"), ("1700000000000000002", "second")),
    )
    files = render_files(ArchiveSpec(account=ME, tweets=[t]))
    head, items = _js_items(files["data/tweets.js"])
    files["data/tweets.js"] = _js(head, [i for i in items if i["tweet"]["id_str"] != t.id])
    with open_archive(pack(tmp_path, files)) as archive:
        posts = list(archive.posts(threads=threads))
    assert [p.id for p in posts] == ["1700000000000000002"]
    assert posts[0].text == "second"


# -------------------------------------------------------------- threads


def test_threads_link_self_replies_across_parts_and_edits(tmp_path) -> None:
    root = _tweet(1, "root", edits=(("1700000000000000500", "root draft"),))
    child = _tweet(2, "child", reply_to="1700000000000000500", reply_to_user_id=ME.id)
    grandchild = _tweet(3, "grandchild", reply_to=child.id, reply_to_user_id=ME.id)
    orphan = _tweet(4, "parent deleted", reply_to="1699999999999999999", reply_to_user_id=ME.id)
    orphan_child = _tweet(5, "under the orphan", reply_to=orphan.id, reply_to_user_id=ME.id)
    other = _tweet(6, "@x reply", reply_to="77", reply_to_user_id="78", reply_to_screen_name="x")
    spec = ArchiveSpec(account=ME, tweets=[grandchild, orphan_child, child, root, orphan, other])
    posts = _posts(tmp_path, spec, parts={"tweets": 3})
    assert posts[child.id].thread_root_id == root.id
    assert posts[grandchild.id].thread_root_id == root.id
    assert posts[orphan.id].is_self_reply
    assert posts[orphan.id].thread_root_id == orphan.id  # an absent parent starts a thread
    assert posts[orphan_child.id].thread_root_id == orphan.id
    assert posts[other.id].is_reply_to_others
    assert posts[other.id].thread_root_id == other.id
    assert sorted(posts.values(), key=lambda p: int(p.id)) == expected_posts(spec)


def test_self_replies_found_by_screen_name_when_account_id_is_empty(tmp_path) -> None:
    me = Account("", "swallow", "Swallow")
    a = _tweet(1, "first")
    b = _tweet(2, "second", reply_to=a.id, reply_to_user_id="111", reply_to_screen_name="Swallow")
    posts = _posts(tmp_path, ArchiveSpec(account=me, tweets=[a, b]))
    assert posts[b.id].is_self_reply
    assert posts[b.id].thread_root_id == a.id


# --------------------------------------------------------- file layouts


def _with_tweets_file(tmp_path, transform) -> dict:
    spec = sample_spec(9, n_posts=40, n_following=5)
    files = render_files(spec)
    files["data/tweets.js"] = transform(files["data/tweets.js"])
    with open_archive(pack(tmp_path, files)) as archive:
        got = sorted(archive.posts(), key=lambda p: int(p.id))
    return got, expected_posts(spec)


@pytest.mark.parametrize(
    "transform",
    [
        lambda b: b + b";\n",  # a trailing semicolon
        lambda b: b"\xef\xbb\xbf" + b,  # a byte-order mark
        lambda b: b.replace(b"\n", b"\r\n"),  # Windows line ends
        lambda b: b.split(b"=", 1)[0] + b"= " + json.dumps(_js_items(b)[1]).encode(),  # compact
        lambda b: b.split(b"=", 1)[0] + b"=\n\n" + json.dumps(_js_items(b)[1], indent=4).encode(),
    ],
    ids=["semicolon", "bom", "crlf", "compact", "indent4"],
)
def test_data_file_layouts(tmp_path, transform) -> None:
    got, expected = _with_tweets_file(tmp_path, transform)
    assert got == expected


def test_corrupted_float_id_is_ignored_for_id_str(tmp_path) -> None:
    def corrupt(blob: bytes) -> bytes:
        head, items = _js_items(blob)
        for i in items:
            i["tweet"]["id"] = float(i["tweet"]["id_str"])
        return _js(head, items)

    got, expected = _with_tweets_file(tmp_path, corrupt)
    assert got == expected


def test_manifest_is_only_a_hint(tmp_path) -> None:
    spec = sample_spec(2, n_posts=10)
    files = render_files(spec, parts={"tweets": 2})
    manifest = files.pop("data/manifest.js")
    assert b"tweets-part1.js" in manifest
    with open_archive(pack(tmp_path / "a", files)) as archive:
        assert len(list(archive.posts())) == len(expected_posts(spec))
        assert archive.generated_at == datetime(2024, 5, 1, tzinfo=UTC)  # from the zip's name
    files["data/manifest.js"] = b"window.__THAR_CONFIG = {broken"
    with open_archive(pack(tmp_path / "b", files)) as archive:
        assert archive.account() == spec.account
        assert archive.generated_at == datetime(2024, 5, 1, tzinfo=UTC)
        assert any("manifest ignored" in w for w in archive.warnings)


def test_zip64_archive(tmp_path) -> None:
    spec = sample_spec(4, n_posts=20)
    path = write_archive(tmp_path, spec, zip64=True)
    blob = path.read_bytes()
    assert blob[28:30] != b"\0\0"
    assert blob[30 + int.from_bytes(blob[26:28], "little") :][:2] == (b"\x01\x00")
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec)


@pytest.mark.slow
def test_zip64_end_of_central_directory(tmp_path) -> None:
    """More than 65,535 members: only a ZIP64 end record can count them."""
    spec = sample_spec(4, n_posts=10)
    files = render_files(spec)
    files.update({f"assets/images/{n}.svg": b"" for n in range(66_000)})
    path = pack(tmp_path, files, compression=zipfile.ZIP_STORED)
    assert b"PK\x06\x06" in path.read_bytes()[-200:]  # the ZIP64 end record
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec)


def test_zip_without_central_directory_is_read_from_local_headers(tmp_path) -> None:
    spec = sample_spec(4, n_posts=30, n_following=12)
    path = write_archive(tmp_path, spec)
    with zipfile.ZipFile(path) as z:
        cd_start = min(i.header_offset for i in z.infolist()) + sum(
            len(i.FileHeader()) + i.compress_size for i in z.infolist()
        )
    blob = path.read_bytes()
    cd = blob.rfind(b"PK\x01\x02", 0, len(blob))
    cd = blob.find(b"PK\x01\x02")
    assert cd >= cd_start - 1024
    path.write_bytes(blob[:cd])  # drop the central directory
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec)
        assert sorted(archive.following()) == sorted(spec.following)
        assert archive.warnings
        assert "directory" in archive.warnings[0]


class _Unseekable:
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, b):
        return self._fh.write(b)

    def flush(self):
        self._fh.flush()


def test_data_descriptors_without_central_directory(tmp_path) -> None:
    spec = sample_spec(6, n_posts=25, n_following=9)
    files = render_files(spec)
    path = tmp_path / "twitter-2024-05-01-dd.zip"
    with open(path, "wb") as raw, zipfile.ZipFile(_Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in files.items():
            z.writestr(name, blob)
    blob = path.read_bytes()
    assert blob[6] & 0x08  # flags: sizes in a data descriptor after the data
    path.write_bytes(blob[: blob.find(b"PK\x01\x02")])
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec)
        assert sorted(archive.following()) == sorted(spec.following)


# ----------------------------------------------------------- bad input


def _read_all(path) -> None:
    with open_archive(path) as archive:
        archive.account()
        list(archive.posts())
        list(archive.followers())


def _error(path) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        _read_all(path)
    return info.value


def test_not_a_zip(tmp_path) -> None:
    (tmp_path / "notes.zip").write_bytes(b"just some text, not a zip at all")
    assert "not a zip" in str(_error(tmp_path / "notes.zip"))


def test_missing_path(tmp_path) -> None:
    assert "does not exist" in str(_error(tmp_path / "nowhere.zip"))


def test_not_an_x_archive(tmp_path) -> None:
    path = pack(tmp_path, {"photos/cat.jpg": b"meow", "notes.txt": b"hi"})
    assert "not an X archive" in str(_error(path))


def test_unsupported_old_era(tmp_path) -> None:
    path = pack(tmp_path, {"tweets.csv": b"tweet_id,text\n", "data/js/tweets/2012_01.js": b""})
    err = str(_error(path))
    assert "not supported" in err
    assert "tweets.csv" in err


def test_truncated_zip(tmp_path) -> None:
    spec = sample_spec(1, n_posts=200, n_following=2000)
    path = write_archive(tmp_path, spec)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    assert "truncated" in str(_error(path))


def test_corrupt_json_names_the_file_and_byte(tmp_path) -> None:
    spec = sample_spec(1, n_posts=5, n_following=300, n_followers=300)
    files = render_files(spec)
    blob = files["data/follower.js"]
    at = blob.index(b'"accountId"', len(blob) // 2)
    files["data/follower.js"] = blob[:at] + b"@" + blob[at + 1 :]
    err = _error(pack(tmp_path, files))
    assert err.member == "data/follower.js"
    assert err.offset == at
    assert "corrupt JSON" in str(err)
    assert f"at byte {at}" in str(err)


def test_not_a_data_file(tmp_path) -> None:
    files = render_files(sample_spec(1, n_posts=3))
    files["data/tweets.js"] = b"<html>oops</html>"
    err = _error(pack(tmp_path, files))
    assert err.member == "data/tweets.js"
    assert "not an X data file" in str(err)


@pytest.mark.parametrize("bad", ["../evil.js", "/etc/evil.js", "data/../../evil.js", "C:/evil.js"])
def test_unsafe_paths_are_refused(tmp_path, bad) -> None:
    files = render_files(sample_spec(1, n_posts=3))
    files[bad] = b"x"
    assert "unsafe path" in str(_error(pack(tmp_path, files)))


def test_folder_symlink_escaping_is_refused(tmp_path) -> None:
    root = write_archive(tmp_path / "a", sample_spec(1, n_posts=3), zipped=False)
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "data" / "tweets_media" / "1-x.jpg")
    assert "unsafe path" in str(_error(root))


def test_zip_bomb_ratio_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("hirondelle.archive.container.RATIO_FLOOR", 1 << 20)
    files = render_files(sample_spec(1, n_posts=3))
    files["data/follower.js"] = b"window.YTD.follower.part0 = [" + b" " * (8 << 20) + b"]"
    err = _error(pack(tmp_path, files))
    assert "zip bomb" in str(err)
    assert err.member == "data/follower.js"


def test_zip_bomb_total_size_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("hirondelle.archive.container.MAX_TOTAL_BYTES", 1 << 20)
    files = render_files(sample_spec(1, n_posts=3))
    files["data/tweets_media/big.bin"] = b"\0" * (2 << 20)
    assert "zip bomb" in str(_error(pack(tmp_path, files)))


def test_private_members_cannot_be_opened(tmp_path) -> None:
    with open_archive(write_archive(tmp_path, sample_spec(1, n_posts=3))) as archive:
        with pytest.raises(ArchiveError, match="private"):
            archive.open_member("data/direct-messages.js")
        with pytest.raises(ArchiveError, match="private"):
            archive.open_member("data/direct_messages_media/1234567890-secret.jpg")
        with pytest.raises(ArchiveError, match="no file"):
            archive.open_member("data/nothing.jpg")


def test_error_messages_say_where(tmp_path) -> None:
    err = ArchiveError("corrupt JSON", member="data/like.js", offset=12)
    assert re.search(r"in data/like\.js at byte 12", str(err))


def test_graph_ids_that_the_fast_scan_cannot_read(tmp_path) -> None:
    """Numeric ids and entries without an id fall back to a typed decode."""
    files = render_files(sample_spec(1, n_posts=3))
    files["data/follower.js"] = (
        b'window.YTD.follower.part0 = [ {"follower" : {"accountId" : 12}}, '
        b'{"follower" : {}}, {"follower" : {"accountId" : "34"}} ]'
    )
    with open_archive(pack(tmp_path, files)) as archive:
        assert list(archive.followers()) == ["12", "34"]


def test_central_directory_with_wrong_offsets_falls_back_to_local_headers(tmp_path) -> None:
    """Archives over 4 GB written without ZIP64 carry wrapped 32-bit offsets."""
    spec = sample_spec(4, n_posts=30, n_following=12)
    path = write_archive(tmp_path, spec)
    blob = bytearray(path.read_bytes())
    cd = blob.find(b"PK\x01\x02")
    broken = 0
    while cd >= 0:
        nlen, elen, clen = (
            int.from_bytes(blob[cd + k : cd + k + 2], "little") for k in (28, 30, 32)
        )
        name = bytes(blob[cd + 46 : cd + 46 + nlen])
        if name.startswith(b"data/tweets") or name.startswith(b"data/following"):
            blob[cd + 42 : cd + 46] = (7).to_bytes(4, "little")  # a wrong local header offset
            broken += 1
        cd = blob.find(b"PK\x01\x02", cd + 46 + nlen + elen + clen)
    assert broken >= 2
    path.write_bytes(bytes(blob))
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec)
        assert sorted(archive.following()) == sorted(spec.following)
        assert any("scanning" in w for w in archive.warnings)


@pytest.mark.parametrize("zipped", [True, False])
def test_2019_media_in_a_nested_zip_are_mapped_and_readable(tmp_path, zipped) -> None:
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"),))
    path = write_archive(tmp_path, ArchiveSpec(account=ME, tweets=[t]), era="2019", zipped=zipped)
    with open_archive(path) as archive:
        (post,) = archive.posts()
        assert post.media[0].path == f"tweet_media.zip/{t.id}-P1.jpg"
        with archive.open_member(post.media[0].path) as fh:
            assert len(fh.read()) == 128  # the generator's bytes for this file
        with pytest.raises(ArchiveError, match="no file"):
            archive.open_member("tweet_media.zip/nothing.jpg")


def test_2019_compressed_nested_zip_is_left_unmapped_with_a_warning(tmp_path) -> None:
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"),))
    spec = ArchiveSpec(account=ME, tweets=[t])
    path = write_archive(tmp_path, spec, era="2019", nested_stored=False)
    with open_archive(path) as archive:
        (post,) = archive.posts()
        assert post.media[0].path is None
        assert any("compressed nested zip" in w for w in archive.warnings)


# ------------------------------------------------------ central directory


def test_media_are_looked_up_in_the_zip_not_listed(tmp_path, monkeypatch) -> None:
    """Media are kept as (hash, directory entry) and their names checked on lookup:
    with every hash colliding (mask 0), lookups still find exactly the right file."""
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"), MediaSpec("photo", "P2", present=False)))
    spec = ArchiveSpec(account=ME, tweets=[t, _tweet(2, "pic", media=(MediaSpec("photo", "Q"),))])
    path = write_archive(tmp_path, spec)
    for mask in (None, 0):
        if mask is not None:
            monkeypatch.setattr("hirondelle.archive.container._HASH_MASK", mask)
        with open_archive(path) as archive:
            members = archive._c.members
            assert not any("tweets_media" in n for n in members.listed())
            posts = {p.id: p for p in archive.posts()}
            first = posts[t.id].media
            assert first[0].path == f"data/tweets_media/{t.id}-P1.jpg"
            assert first[1].path is None  # absent from the zip
            assert f"data/tweets_media/{t.id}-P1.jpg" in archive.member_names
            with archive.open_member(first[0].path) as fh:
                assert len(fh.read()) == 128  # the generator's bytes for this file
            with pytest.raises(ArchiveError, match="no file"):
                archive.open_member(f"data/tweets_media/{t.id}-P2.jpg")


def test_wrapped_folder_and_macosx_junk_with_looked_up_media(tmp_path) -> None:
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"),))
    spec = ArchiveSpec(account=ME, tweets=[t])
    path = write_archive(tmp_path, spec, wrap_folder=True, macosx=True)
    with open_archive(path) as archive:
        (post,) = archive.posts()
        assert post.media[0].path == f"data/tweets_media/{t.id}-P1.jpg"
        assert not any("MACOSX" in n or n.startswith("._") for n in archive.member_names)
        assert "data/direct_messages_media/" in archive.private_files()


def test_a_duplicated_member_reads_as_its_last_entry(tmp_path) -> None:
    t = _tweet(1, "pic", media=(MediaSpec("photo", "P1"),))
    path = write_archive(tmp_path, ArchiveSpec(account=ME, tweets=[t]))
    name = f"data/tweets_media/{t.id}-P1.jpg"
    with zipfile.ZipFile(path, "a") as z, pytest.warns(UserWarning, match="Duplicate"):
        z.writestr(name, b"the second one")
    with open_archive(path) as archive, archive.open_member(name) as fh:
        assert fh.read() == b"the second one"


def _patch_central_entry(path, member: str, field_offset: int, value: bytes) -> None:
    blob = bytearray(path.read_bytes())
    cd = blob.find(b"PK\x01\x02")
    while cd >= 0:
        nlen = int.from_bytes(blob[cd + 28 : cd + 30], "little")
        if bytes(blob[cd + 46 : cd + 46 + nlen]) == member.encode():
            blob[cd + field_offset : cd + field_offset + len(value)] = value
            path.write_bytes(bytes(blob))
            return
        cd = blob.find(b"PK\x01\x02", cd + 46)
    raise AssertionError(member)


def test_an_encrypted_member_is_refused_plainly(tmp_path) -> None:
    path = write_archive(tmp_path, sample_spec(2, n_posts=5))
    _patch_central_entry(path, "data/tweets.js", 8, (1).to_bytes(2, "little"))  # flags: encrypted
    with open_archive(path) as archive, pytest.raises(ArchiveError, match="encrypted"):
        list(archive.posts())


def test_a_member_inflating_past_its_declared_size_is_refused(tmp_path) -> None:
    path = write_archive(tmp_path, sample_spec(2, n_posts=40))
    _patch_central_entry(path, "data/tweets.js", 24, (100).to_bytes(4, "little"))  # size: 100
    with open_archive(path) as archive, pytest.raises(ArchiveError, match="zip bomb"):
        list(archive.posts())


def test_a_corrupted_stored_member_fails_its_crc(tmp_path) -> None:
    files = render_files(sample_spec(2, n_posts=40))
    path = pack(tmp_path, files, compression=zipfile.ZIP_STORED)
    blob = bytearray(path.read_bytes())
    at = blob.find(b"full_text")
    blob[at] = ord("F")  # still valid JSON, wrong CRC
    path.write_bytes(bytes(blob))
    with open_archive(path) as archive, pytest.raises(ArchiveError, match="CRC"):
        list(archive.posts())
