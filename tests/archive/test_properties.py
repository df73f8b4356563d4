"""Property tests: generated archives read back exactly; damage only raises ArchiveError."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hirondelle.archive import Account, ArchiveError, open_archive, summarize
from tests.support.x_archive import (
    ArchiveSpec,
    MediaSpec,
    TweetSpec,
    expected_posts,
    render_files,
    sample_spec,
    write_archive,
)

ME = Account("4242", "swallow", "Swallow")
_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

word = st.text(
    alphabet=st.sampled_from("abcXYZ019&<>;#'\"\\/é日🐦🌍…-_"), min_size=1, max_size=8
) | st.sampled_from(["&amp;", "&lt;b&gt;", "R&D", "<3", "a>b", "🇫🇷", "e\u0301"])
url = st.builds(
    lambda path, q: f"https://ex.example/{path}" + (f"?a={q}&b=2" if q else ""),
    st.text(alphabet="abc123-_", min_size=1, max_size=6),
    st.text(alphabet="xyz&", max_size=3),
)


@st.composite
def tweets(draw, n: int) -> TweetSpec:
    tokens = draw(st.lists(st.one_of(word, url.map(lambda u: ("url", u))), min_size=1, max_size=12))
    long = draw(st.booleans()) and draw(st.booleans())
    if long:
        tokens += ["filler"] * 60 + [("url", "https://tail.example/z")]
    text = " ".join(t[1] if isinstance(t, tuple) else t for t in tokens)
    urls = tuple(t[1] for t in tokens if isinstance(t, tuple))
    if text.startswith("RT @"):
        text = "x" + text
    media = draw(
        st.lists(
            st.builds(
                MediaSpec,
                kind=st.sampled_from(["photo", "video", "animated_gif"]),
                name=st.just(f"m{n}"),
                present=st.booleans(),
            ),
            max_size=1,
        )
    )
    reply = draw(st.sampled_from(["none", "self", "other"]))
    kw = {}
    if reply == "other":
        text = "@someone " + text
        kw = dict(reply_to="99", reply_to_user_id="98", reply_to_screen_name="someone")
        kw["mentions"] = (("someone", "98"),)
    elif reply == "self":
        kw = dict(reply_to=str(1800000000000000000 + max(n - 1, 0) * 1000), reply_to_user_id=ME.id)
    quote = ("q", "12345") if draw(st.integers(0, 6)) == 0 else None
    community = draw(st.integers(0, 9)) == 0
    retweet = draw(st.integers(0, 9)) == 0 and not (
        long or media or quote or community or reply != "none"
    )
    return TweetSpec(
        id=str(1800000000000000000 + n * 1000),
        created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        text=text,
        urls=urls,
        media=tuple(media),
        long=long,
        retweet_of="friend" if retweet else None,
        quote=quote,
        community=community,
        **kw,
    )


@st.composite
def specs(draw) -> ArchiveSpec:
    n = draw(st.integers(1, 8))
    return ArchiveSpec(account=ME, tweets=[draw(tweets(i)) for i in range(n)])


@_SETTINGS
@given(spec=specs(), era=st.sampled_from(["2024", "2021", "2019"]), zipped=st.booleans())
def test_generated_posts_read_back_exactly(tmp_path_factory, spec, era, zipped) -> None:
    path = write_archive(
        tmp_path_factory.mktemp("a"), spec, era=era, zipped=zipped, parts={"tweets": 2, "tweet": 2}
    )
    with open_archive(path) as archive:
        got = sorted(archive.posts(), key=lambda p: int(p.id))
    assert got == expected_posts(spec, era)


@_SETTINGS
@given(
    seed=st.integers(0, 10_000),
    era=st.sampled_from(["2024", "2021", "2019"]),
    parts=st.integers(1, 4),
    wrap=st.booleans(),
)
def test_sample_archives_read_back_exactly(tmp_path_factory, seed, era, parts, wrap) -> None:
    spec = sample_spec(seed, n_posts=30, n_following=20, n_followers=25)
    base = "tweets" if era == "2024" else "tweet"
    path = write_archive(
        tmp_path_factory.mktemp("s"),
        spec,
        era=era,
        wrap_folder=wrap,
        macosx=wrap,
        parts={base: parts, "follower": parts, "like": parts},
        seed=seed,
    )
    with open_archive(path) as archive:
        assert sorted(archive.posts(), key=lambda p: int(p.id)) == expected_posts(spec, era)
        assert sorted(archive.followers()) == sorted(spec.followers)
        assert sorted(archive.following()) == sorted(spec.following)


# ------------------------------------------------------------------ fuzz


def _read_everything(path: Path) -> None:
    with open_archive(path) as archive:
        summarize(archive)
        list(archive.posts())
        archive.profile()


def _pristine(tmp_path_factory, zipped: bool, compression=zipfile.ZIP_DEFLATED) -> Path:
    spec = sample_spec(11, n_posts=25, n_following=30, n_followers=30, n_likes=5)
    files = render_files(spec, parts={"tweets": 2})
    # Keep the data files only: the fuzzing then mostly hits what the reader reads.
    files = {k: v for k, v in files.items() if k.endswith(".js") and "direct" not in k}
    root = tmp_path_factory.mktemp("p")
    if not zipped:
        for name, blob in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(blob)
        return root
    path = root / "twitter-2024-05-01-fuzz.zip"
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, blob in files.items():
            z.writestr(name, blob)
    return path


def _only_archive_errors(path: Path) -> None:
    message = "ok"
    try:
        _read_everything(path)
    except ArchiveError as exc:
        message = str(exc)
    assert message  # an ArchiveError always says something; anything else propagates


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), stored=st.booleans())
def test_damaged_zips_only_raise_archive_error(tmp_path_factory, data, stored) -> None:
    path = _pristine(tmp_path_factory, True, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    blob = bytearray(path.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
    else:
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i:i] = data.draw(st.binary(min_size=1, max_size=64))
    path.write_bytes(bytes(blob))
    _only_archive_errors(path)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mangled_json_only_raises_archive_error(tmp_path_factory, data) -> None:
    root = _pristine(tmp_path_factory, False)
    files = sorted(p for p in root.rglob("*.js"))
    target = data.draw(st.sampled_from(files))
    blob = bytearray(target.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["cut", "flip", "delete", "insert"]))
        i = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if how == "cut":
            blob = blob[:i]
        elif how == "flip" and blob:
            blob[i] = data.draw(st.sampled_from(b'{}[],:"\\ \n0a\xff\xe2'))
        elif how == "delete":
            del blob[i : i + data.draw(st.integers(1, 50))]
        else:
            blob[i:i] = data.draw(
                st.sampled_from([b"}", b"]", b",", b'"', b"\n  },", b"\xc3", b"null"])
            )
    target.write_bytes(bytes(blob))
    _only_archive_errors(root)
    shutil.rmtree(root)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node, here=()):
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*here, index))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_wrong_types_only_raise_archive_error(tmp_path_factory, data) -> None:
    """Well-formed JSON with a value of the wrong type anywhere (a dict for an
    id, a number for a date…): the reader says so, or reads around it. A
    TypeError, KeyError or AttributeError here is a bug in the reader."""
    import json

    root = _pristine(tmp_path_factory, False)
    read = [
        p for p in sorted(root.rglob("*.js")) if not p.read_bytes().startswith((b"POISON", b"/*"))
    ]
    target = data.draw(st.sampled_from(read))
    head, sep, body = target.read_text(encoding="utf-8").partition("=")
    tree = json.loads(body)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(_paths(tree))))
        value = data.draw(_JSON_VALUES)
        if not path:
            tree = value
            continue
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
    target.write_text(head + sep + " " + json.dumps(tree), encoding="utf-8")
    _only_archive_errors(root)
    shutil.rmtree(root)
