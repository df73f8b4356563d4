"""Facets point at exactly their text, in UTF-8 bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hirondelle.compose import byte_offsets, compose_text, display_url, facets, split
from hirondelle.compose.limits import BLUESKY
from tests.compose.strategies import EXAMPLES, bluesky_resolver, post_with, texts

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"


def covered(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


def check_facets(text: str, found: list[dict]) -> None:
    handles = {"did:plc:alice": "@alice.bsky.social", "did:plc:carol": "@carol.example.fr"}
    previous_end = 0
    for facet in found:
        assert facet["$type"] == "app.bsky.richtext.facet"
        assert facet["index"]["byteStart"] >= previous_end  # sorted, not overlapping
        previous_end = facet["index"]["byteEnd"]
        (feature,) = facet["features"]
        shown = covered(text, facet)
        if feature["$type"] == MENTION:
            assert shown == handles[feature["did"]]
        elif feature["$type"] == TAG:
            assert shown in ("#" + feature["tag"], "＃" + feature["tag"])
        else:
            assert feature["$type"] == LINK
            uri = feature["uri"]
            assert uri.startswith(("https://", "http://"))
            if uri.startswith("https://x.com/") and shown.startswith("@"):
                assert uri == "https://x.com/" + shown[1:]
            else:
                assert shown == display_url(uri)


def test_facets_in_byte_offsets() -> None:
    composed = compose_text(
        post_with("Été 🇫🇷 avec @alice : #Paris https://example.com/x"),
        "bluesky",
        resolve_mention=bluesky_resolver,
    )
    found = facets(composed.rich)
    text = composed.rich.text
    assert [covered(text, f) for f in found] == [
        "@alice.bsky.social",
        "#Paris",
        "example.com/x",
    ]
    # "Été 🇫🇷 avec " is 12 code points but 20 bytes.
    assert found[0]["index"] == {"byteStart": 20, "byteEnd": 38}
    assert found[0]["features"] == [{"$type": MENTION, "did": "did:plc:alice"}]


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=texts(), small=st.booleans())
def test_facets_always_point_at_their_text(text: str, small: bool) -> None:
    composed = compose_text(post_with(text), "bluesky", resolve_mention=bluesky_resolver)
    check_facets(composed.rich.text, facets(composed.rich))
    limits = BLUESKY if not small else BLUESKY.__class__(BLUESKY.network, 80, 200)
    for part in split(composed.rich, limits):
        check_facets(part.text, facets(part.rich))


@given(st.text(max_size=60), st.data())
def test_byte_offsets_match_encoding(text: str, data) -> None:
    positions = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    offsets = byte_offsets(text, positions)
    for position in positions:
        assert offsets[position] == len(text[:position].encode("utf-8"))
