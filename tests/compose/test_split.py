"""Splitting: every part fits, no grapheme or entity is cut, nothing is lost."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hirondelle.compose import (
    BLUESKY,
    MASTODON,
    ComposeError,
    RichText,
    Span,
    SpanKind,
    compose_text,
    fits,
    grapheme_length,
    split,
)
from hirondelle.compose._patterns import GRAPHEME
from tests.compose.strategies import EXAMPLES, bluesky_resolver, mastodon_resolver, post_with, texts

# Small limits make every example a thread; the defaults are tested too.
SMALL_BLUESKY = replace(BLUESKY, max_graphemes=70, max_bytes=150)
SMALL_MASTODON = replace(MASTODON, max_graphemes=90)
LIMITS = [BLUESKY, MASTODON, SMALL_BLUESKY, SMALL_MASTODON]
RESOLVERS = {"bluesky": bluesky_resolver, "mastodon": mastodon_resolver}


def boundaries(text: str) -> set[int]:
    found = {m.start() for m in GRAPHEME.finditer(text)}
    found.add(len(text))
    return found


def check_parts(
    source: RichText, parts, limits, header: str = "", footer: str = "", numbering: bool = True
) -> None:
    text = source.text
    cuts = boundaries(text)
    position = 0
    for index, part in enumerate(parts):
        # Fits, by the network's own count (links re-detected in the final text).
        assert fits(part.text, limits), (part.text, grapheme_length(part.text))
        # Cut between graphemes only.
        assert part.source_start in cuts
        assert part.source_end in cuts
        # Nothing lost: only whitespace between the parts.
        assert text[position : part.source_start].strip() == ""
        assert part.body == text[part.source_start : part.source_end]
        position = part.source_end
        # Entities are never cut, and keep their value.
        for span in part.rich.spans:
            assert part.body_start <= span.start <= span.end <= part.body_end
        inside = [
            s for s in source.spans if s.start >= part.source_start and s.end <= part.source_end
        ]
        assert len(inside) == len(part.rich.spans)
        for original, moved in zip(inside, part.rich.spans, strict=True):
            assert source.span_text(original) == part.rich.span_text(moved)
            assert original.value == moved.value
        for span in source.spans:
            assert not (span.start < part.source_start < span.end)
            assert not (span.start < part.source_end < span.end)
        if header and index == 0:
            assert part.text.startswith(header + "\n\n") or part.text == header
        if footer and index == len(parts) - 1:
            assert part.text.endswith(footer)
        if numbering and len(parts) > 1:
            assert part.text.removesuffix("\n\n" + footer).endswith(f" ({index + 1}/{len(parts)})")
    assert text[position:].strip() == ""


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=texts(),
    limits=st.sampled_from(LIMITS),
    numbering=st.booleans(),
    decoration=st.sampled_from(["", "X, 12 mars 2019", "Originally posted on X on 12 March 2019"]),
    at_end=st.booleans(),
)
@example(text="👨‍👩‍👧‍👦" * 400, limits=BLUESKY, numbering=True, decoration="", at_end=False)
@example(text="e\u0301" * 1500, limits=BLUESKY, numbering=True, decoration="", at_end=False)
@example(text="🇫🇷" * 2000, limits=SMALL_BLUESKY, numbering=False, decoration="", at_end=True)
def test_split_composed_text(text, limits, numbering, decoration, at_end) -> None:
    network = limits.network.value
    composed = compose_text(post_with(text), network, resolve_mention=RESOLVERS[network])
    if limits.max_graphemes < 100:
        decoration = decoration[:16]  # a long date line leaves no room for a link
    header, footer = ("", decoration) if at_end else (decoration, "")
    parts = split(composed.rich, limits, numbering=numbering, header=header, footer=footer)
    assert parts
    check_parts(composed.rich, parts, limits, header, footer, numbering)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=("Cs",)), max_size=700),
    limits=st.sampled_from(LIMITS),
)
def test_split_any_unicode(text, limits) -> None:
    """Arbitrary code points (prepend marks, lone combining marks, controls)."""
    rich = RichText(text)
    try:
        parts = split(rich, limits)
    except ComposeError:
        # Only acceptable when one grapheme alone is over the byte limit.
        assert any(
            len(g.encode()) > (limits.max_bytes or 10**9) // 2 for g in GRAPHEME.findall(text)
        )
        return
    check_parts(rich, parts, limits)


def test_short_text_is_one_part_without_numbering() -> None:
    parts = split(RichText("Bonjour 👋🏽"), BLUESKY)
    assert [p.text for p in parts] == ["Bonjour 👋🏽"]


def test_prefers_sentence_ends_then_words() -> None:
    sentence = "Une phrase courte qui se termine. "
    text = sentence * 12
    parts = split(RichText(text), BLUESKY, numbering=False)
    assert len(parts) == 2
    assert parts[0].text.endswith("termine.")
    words = "mot " * 100
    parts = split(RichText(words.strip()), BLUESKY, numbering=False)
    assert all(not p.text.startswith(" ") and not p.text.endswith(" ") for p in parts)
    assert all(w == "mot" for p in parts for w in p.text.split(" "))


def test_grapheme_limit_counts_clusters_not_code_points() -> None:
    family = "👨‍👩‍👧‍👦"  # 7 code points, 25 bytes, one grapheme
    parts = split(RichText(family * 100), BLUESKY)
    assert len(parts) == 1  # 100 graphemes, 2,500 bytes
    parts = split(RichText(family * 150), BLUESKY)
    assert len(parts) == 2  # 3,750 bytes: the byte limit cuts first
    assert all(len(p.text.encode()) <= 3000 for p in parts)


def test_mastodon_link_counts_23() -> None:
    url = "https://example.com/" + "a" * 300
    text = " ".join([url] * 20)
    rich = compose_text(post_with(text), "mastodon").rich
    parts = split(rich, MASTODON, numbering=False)
    assert len(parts) == 1  # 20 × 23 + 19 spaces = 479


def test_numbering_width_grows_with_the_count() -> None:
    text = " ".join(["mot"] * 2000)
    parts = split(RichText(text), replace(BLUESKY, max_graphemes=20))
    assert len(parts) >= 100
    assert parts[0].text.endswith(f" (1/{len(parts)})")
    assert all(fits(p.text, replace(BLUESKY, max_graphemes=20)) for p in parts)


def test_no_room_left_is_a_clear_error() -> None:
    with pytest.raises(ComposeError, match="no room"):
        split(RichText("x " * 100), replace(MASTODON, max_graphemes=30), footer="f" * 40)


def test_entity_longer_than_a_part_is_an_error() -> None:
    rich = RichText("#" + "a" * 100, (Span(0, 101, SpanKind.TAG, "a" * 100),))
    with pytest.raises(ComposeError, match="cannot fit"):
        split(rich, replace(BLUESKY, max_graphemes=50))


def test_media_only_post_keeps_its_date_line() -> None:
    parts = split(RichText(""), MASTODON, footer="Originally posted on X on 1 May 2020")
    assert [p.text for p in parts] == ["Originally posted on X on 1 May 2020"]


def test_prefers_paragraph_ends_and_keeps_closing_quotes() -> None:
    first = "Premier paragraphe, assez long pour remplir plus de la moitié d’un message. " * 2
    text = first.strip() + "\n\n" + "Second paragraphe «qui cite.» Et continue encore " * 6
    parts = split(RichText(text), BLUESKY, numbering=False)
    assert parts[0].text == first.strip()
    text = ("Il a dit «c’est fini.» " * 30).strip()
    parts = split(RichText(text), BLUESKY, numbering=False)
    assert all(p.text.endswith("fini.»") for p in parts[:-1])


def test_chinese_and_japanese_sentences_split_without_spaces() -> None:
    text = "これは日本語の文です。" * 40  # 11 graphemes a sentence, no spaces at all
    parts = split(RichText(text), BLUESKY, numbering=False)
    assert len(parts) == 2
    assert all(p.text.endswith("。") for p in parts)
    assert "".join(p.text for p in parts) == text


def test_space_under_a_combining_mark_is_not_a_break() -> None:
    text = ("mot " * 80) + "a \u0301" + (" mot" * 80)
    for part in split(RichText(text), BLUESKY):
        assert not part.body.startswith("\u0301")
        assert fits(part.text, BLUESKY)


def test_space_class_is_exactly_str_isspace() -> None:
    from hirondelle.compose.split import _SPACE_RUN

    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    assert [c for c in range(0x110000) if _SPACE_RUN.fullmatch(chr(c))] == spaces
