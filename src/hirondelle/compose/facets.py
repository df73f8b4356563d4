"""Bluesky rich-text facets: where links, mentions and tags sit, in UTF-8 bytes.

Bluesky renders no markup: a link, a mention or a hashtag is only clickable
if the post's record says which byte range of its UTF-8 text it covers
(`app.bsky.richtext.facet`). Python indexes strings by code point, so every
offset is converted here, once, from the spans the composer found.
"""

from __future__ import annotations

from collections.abc import Iterable

from hirondelle.compose.text import RichText, Span, SpanKind

__all__ = ["FACET_TYPE", "byte_offsets", "facets"]

FACET_TYPE = "app.bsky.richtext.facet"
_FEATURE = {
    SpanKind.LINK: (f"{FACET_TYPE}#link", "uri"),
    SpanKind.MENTION: (f"{FACET_TYPE}#mention", "did"),
    SpanKind.TAG: (f"{FACET_TYPE}#tag", "tag"),
}


def byte_offsets(text: str, positions: Iterable[int]) -> dict[int, int]:
    """UTF-8 byte offset of each code-point position in `text`."""
    wanted = sorted(set(positions))
    if text.isascii():
        return {p: p for p in wanted}
    result: dict[int, int] = {}
    done_chars = done_bytes = 0
    for position in wanted:
        done_bytes += len(text[done_chars:position].encode("utf-8"))
        done_chars = position
        result[position] = done_bytes
    return result


def _facet(span: Span, offsets: dict[int, int]) -> dict:
    feature_type, key = _FEATURE[span.kind]
    return {
        "$type": FACET_TYPE,
        "index": {"byteStart": offsets[span.start], "byteEnd": offsets[span.end]},
        "features": [{"$type": feature_type, key: span.value}],
    }


def facets(rich: RichText) -> list[dict]:
    """The facets of a post's text, as the `facets` field of its record wants them."""
    if not rich.spans:
        return []
    spans = sorted(rich.spans, key=lambda s: s.start)
    offsets = byte_offsets(rich.text, [p for s in spans for p in (s.start, s.end)])
    return [_facet(span, offsets) for span in spans if span.end > span.start]
