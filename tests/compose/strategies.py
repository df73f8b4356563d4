"""Hypothesis strategies for the text pipeline: the hard cases of real posts.

Words in many scripts, emoji with skin tones, ZWJ families, flags, combining
accents, right-to-left text, CJK sentences without spaces, long words, links,
mentions and hashtags, glued together with every kind of whitespace and
sentence punctuation.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from hypothesis import strategies as st

from hirondelle.archive.records import Mention, Post
from hirondelle.networks.base import Network, RemoteAccount

#: Examples per property; raise it for a deeper hunt:
#: HIRONDELLE_TEST_EXAMPLES=3000 pytest tests/compose
EXAMPLES = int(os.environ.get("HIRONDELLE_TEST_EXAMPLES", "150"))

TRICKY = [
    "hello",
    "monde",
    "été",
    "naïve",
    "e\u0301\u0301",  # combining accents stacked on one letter
    "A\u030a",
    "שלום",  # Hebrew, right to left
    "مرحبا",  # Arabic, right to left
    "\u200fעברית\u200f",  # with right-to-left marks
    "日本語の文章です。次の文。",  # sentences with no spaces
    "👍🏽",  # skin tone
    "👨‍👩‍👧‍👦",  # ZWJ family
    "🧑🏾‍🤝‍🧑🏻",
    "🇫🇷🇺🇦",  # two flags
    "🏳️‍🌈",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland tag flag
    "क्षि",  # Devanagari conjunct
    "각",
    "\u1100\u1161\u11a8",  # Hangul jamo (one grapheme)
    "x" * 45,  # a long word
    "ab" * 90,  # a word longer than a small limit
    "l'été",
    "(parenthèse)",
    "«citation»",
    "1,000.50",
    "&",
]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", ". ", "! ", "? ", "… ", ", ", "; ", "\t", " — "]
NAMES = ["alice", "Bob_42", "carol", "dave", "Émile"[1:], "x" * 15]


@st.composite
def urls(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(["example.com", "www.example.org", "sub.domain.fr", "x.com"]))
    path = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/~().,!é&%'", max_size=120))
    query = draw(st.sampled_from(["", "?q=1", "?a=b&c=d", "#frag", "?q=été", "?x=(1)&"]))
    return f"https://{host}/{path}{query}"


def entity() -> st.SearchStrategy[str]:
    return st.one_of(
        urls(),
        st.sampled_from(NAMES).map(lambda n: "@" + n),
        st.sampled_from(["#Paris", "#été", "#Hirondelle2026", "#日本", "＃fullwidth"]),
    )


@st.composite
def texts(draw: st.DrawFn, max_tokens: int = 120) -> str:
    """Prose made of tricky words, entities and separators."""
    tokens = draw(
        st.lists(
            st.one_of(st.sampled_from(TRICKY), entity(), st.text(min_size=1, max_size=8)),
            max_size=max_tokens,
        )
    )
    out: list[str] = []
    for token in tokens:
        out.append(token)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


def post_with(text: str, **extra) -> Post:
    mentions = tuple(Mention(n) for n in NAMES)
    return Post(
        id=extra.pop("id", "1000"),
        created_at=extra.pop("created_at", datetime(2019, 3, 12, 8, 30, tzinfo=UTC)),
        text=text,
        mentions=mentions,
        **extra,
    )


def bluesky_resolver(name: str) -> RemoteAccount | None:
    """Alice and carol moved to Bluesky; the others did not (or are unknown)."""
    known = {"alice": "alice.bsky.social", "carol": "carol.example.fr"}
    handle = known.get(name.lower())
    if handle is None:
        return None
    return RemoteAccount(Network.BLUESKY, f"did:plc:{name.lower()}", handle)


def mastodon_resolver(name: str) -> RemoteAccount | None:
    known = {"alice": "alice@mastodon.social", "carol": "carol@piaille.fr"}
    handle = known.get(name.lower())
    if handle is None:
        return None
    user, host = handle.split("@")
    return RemoteAccount(Network.MASTODON, f"https://{host}/users/{user}", handle)
