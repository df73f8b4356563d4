"""The chunked `window.YTD… = [ … ]` decoder agrees with json.loads, chunk size aside."""

from __future__ import annotations

import io
import json
import re

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirondelle.archive import ArchiveError
from hirondelle.archive.jsfile import iter_batches

DECODER = msgspec.json.Decoder(list)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab}{][,:"\\\n é🐦'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def _file(items: list, layout: str) -> bytes:
    if layout == "x":
        body = json.dumps(items, indent=2, separators=(",", " : "), ensure_ascii=False)
    elif layout == "compact":
        body = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    else:
        body = json.dumps(items, indent="\t", ensure_ascii=False)
    return ("window.YTD.thing.part0 = " + body).encode()


def _read(blob: bytes, chunk: int) -> list:
    out = []
    for batch in iter_batches(io.BytesIO(blob), "data/thing.js", DECODER, chunk_bytes=chunk):
        out.extend(batch)
    return out


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.dictionaries(st.text(max_size=4), json_values, max_size=4), max_size=12),
    layout=st.sampled_from(["x", "compact", "tabs"]),
    chunk=st.integers(1, 300),
)
def test_items_match_json_loads_for_any_chunk_size(items, layout, chunk) -> None:
    assert _read(_file(items, layout), chunk) == items


def test_separator_lookalike_inside_strings() -> None:
    items = [{"t": 'x"\n  },\n  {"y'}, {"t": "}, {"}, {"tweet": {"a": ["}", "]"]}}]
    for chunk in (1, 7, 64, 4096):
        assert _read(_file(items, "x"), chunk) == items


def test_empty_array() -> None:
    assert _read(b"window.YTD.like.part0 = [ ]", 4) == []
    assert _read(b"window.YTD.like.part0 = []", 4) == []


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "not an X data file"),
        (b"window.YTD.x.part0 = ", "truncated"),
        (b"window.YTD.x.part0 = {}", re.escape("expected '['")),
        (b'window.YTD.x.part0 = [ {"a" : 1}, {"a" : 2}', "not closed"),
        (b'window.YTD.x.part0 = [ {"a" : 1} {"a" : 2} ]', "corrupt JSON"),
    ],
)
def test_bad_files(blob, message) -> None:
    with pytest.raises(ArchiveError, match=message):
        _read(blob, 8)


def test_error_offset_points_at_the_bad_byte() -> None:
    items = [{"n": i, "pad": "x" * 50} for i in range(200)]
    blob = bytearray(_file(items, "x"))
    at = blob.index(b'"n" : 150')
    blob[at] = ord("?")
    with pytest.raises(ArchiveError) as info:
        _read(bytes(blob), 512)
    assert info.value.offset == at


def test_invalid_utf8_is_an_archive_error() -> None:
    with pytest.raises(ArchiveError, match="UTF-8"):
        _read(b'window.YTD.x.part0 = [ {"a" : "\xc3("} ]', 8)
    with pytest.raises(ArchiveError, match="UTF-8"):
        _read(b'window.YTD.x.part0 = [\n  {"a" : "\xc3("},\n  {"b" : 1}\n]' + b" " * 64, 16)
