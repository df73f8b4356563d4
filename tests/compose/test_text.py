"""Mentions, links, hashtags and quotes, for each network."""

from __future__ import annotations

import pytest

from hirondelle.compose import SpanKind, compose_text, display_url
from hirondelle.networks.base import PublishedPost
from tests.compose.strategies import bluesky_resolver, mastodon_resolver, post_with


def spans_of(composed):
    rich = composed.rich
    return [(s.kind, rich.span_text(s), s.value) for s in rich.spans]


def test_bluesky_mentions_found_in_the_directory_become_handles() -> None:
    composed = compose_text(
        post_with("Merci @Alice et @bob !"), "bluesky", resolve_mention=bluesky_resolver
    )
    assert composed.rich.text == "Merci @alice.bsky.social et @bob !"
    assert spans_of(composed) == [
        (SpanKind.MENTION, "@alice.bsky.social", "did:plc:alice"),
        (SpanKind.LINK, "@bob", "https://x.com/bob"),
    ]


def test_mastodon_mentions_become_addresses_or_x_links() -> None:
    composed = compose_text(
        post_with("Merci @alice et @bob."), "mastodon", resolve_mention=mastodon_resolver
    )
    # A bare "@bob" would mention whoever is called bob on the person's server.
    assert composed.rich.text == "Merci @alice@mastodon.social et https://x.com/bob."
    assert spans_of(composed)[0] == (
        SpanKind.MENTION,
        "@alice@mastodon.social",
        "https://mastodon.social/users/alice",
    )


def test_without_a_resolver_every_mention_links_to_x() -> None:
    composed = compose_text(post_with("@alice hi"), "mastodon")
    assert composed.rich.text == "https://x.com/alice hi"


def test_addresses_and_emails_are_not_x_mentions() -> None:
    text = "écrivez à moi@example.com ou suivez @me@mastodon.social"
    composed = compose_text(post_with(text), "mastodon", resolve_mention=mastodon_resolver)
    assert composed.rich.text == text
    assert not [s for s in composed.rich.spans if s.kind is SpanKind.MENTION]


def test_resolver_is_asked_once_per_name() -> None:
    asked: list[str] = []

    def resolver(name):
        asked.append(name)

    compose_text(post_with("@alice @Alice @alice"), "bluesky", resolve_mention=resolver)
    assert asked == ["alice"]


def test_bluesky_mention_needs_a_did() -> None:
    from hirondelle.networks.base import Network, RemoteAccount

    def resolver(name):
        return RemoteAccount(Network.BLUESKY, "not-a-did", "alice.bsky.social")

    composed = compose_text(post_with("@alice"), "bluesky", resolve_mention=resolver)
    assert spans_of(composed) == [(SpanKind.LINK, "@alice", "https://x.com/alice")]


def test_hashtags_are_tags() -> None:
    composed = compose_text(post_with("Vive #Paris, #été et C#, &#123; #2024"), "bluesky")
    tags = [(s.value, composed.rich.span_text(s)) for s in composed.rich.spans]
    assert tags == [("Paris", "#Paris"), ("été", "#été")]


def test_hashtags_follow_the_archive_entities_when_given() -> None:
    composed = compose_text(post_with("#un #deux", hashtags=("deux",)), "bluesky")
    assert [s.value for s in composed.rich.spans] == ["deux"]


def test_links_keep_their_full_url_and_bluesky_shows_them_short() -> None:
    url = "https://www.example.com/un/chemin/très/long/qui/ne/finit/pas?q=1"
    composed = compose_text(post_with(f"Lire ({url}). Fin"), "bluesky")
    assert composed.rich.text == f"Lire ({display_url(url)}). Fin"
    assert display_url(url) == "example.com/un/chemin/très/lo…"
    (span,) = composed.rich.spans
    assert (span.kind, span.value) == (SpanKind.LINK, url)
    mastodon = compose_text(post_with(f"Lire ({url}). Fin"), "mastodon")
    assert mastodon.rich.text == f"Lire ({url}). Fin"
    unshortened = compose_text(post_with(url), "bluesky", shorten_links=False)
    assert unshortened.rich.text == url


def test_short_links_are_shown_whole() -> None:
    assert display_url("https://example.com/a") == "example.com/a"
    assert display_url("http://www.example.com/") == "example.com"


def test_quote_of_own_republished_post_is_a_bluesky_quote() -> None:
    post = post_with("Relisez ceci https://twitter.com/me/status/42", quoted_post_id="42")
    published = {"42": PublishedPost("at://did:plc:me/app.bsky.feed.post/3k", "bafy")}
    composed = compose_text(post, "bluesky", published=published)
    assert composed.rich.text == "Relisez ceci"
    assert composed.quote_post_id == "42"
    web = post_with("Relisez https://twitter.com/i/web/status/42", quoted_post_id="42")
    assert compose_text(web, "bluesky", published=published).rich.text == "Relisez"
    # Being republished earlier in the same run is enough: resolved at publish time.
    assert compose_text(post, "bluesky", pending={"42"}).quote_post_id == "42"


def test_quote_of_own_republished_post_is_a_link_on_mastodon() -> None:
    post = post_with("Relisez ceci https://x.com/me/status/42?s=20", quoted_post_id="42")
    published = {"42": PublishedPost("1099", url="https://piaille.fr/@me/1099")}
    composed = compose_text(post, "mastodon", published=published)
    assert composed.rich.text == "Relisez ceci https://piaille.fr/@me/1099"
    assert composed.quote_post_id is None


def test_quote_of_someone_else_stays_a_link_to_x() -> None:
    post = post_with("Bien dit https://twitter.com/bob/status/7", quoted_post_id="7")
    for network in ("bluesky", "mastodon"):
        composed = compose_text(post, network, pending={"8"})
        assert composed.quote_post_id is None
        assert composed.rich.spans[-1].value == "https://twitter.com/bob/status/7"


@pytest.mark.parametrize(
    ("written", "link"),
    [
        (
            "Voir https://fr.wikipedia.org/wiki/Hirondelle_(oiseau).",
            "https://fr.wikipedia.org/wiki/Hirondelle_(oiseau)",
        ),
        ("(https://example.com/x)", "https://example.com/x"),
        ("https://example.com/a?b=c&d=e, ok", "https://example.com/a?b=c&d=e"),
        ("https://example.com/tilde~ fin", "https://example.com/tilde"),
        ("« https://example.com/été »", "https://example.com/été"),
        ("https://example.com#ancre", "https://example.com"),
    ],
)
def test_link_ends_where_mastodon_ends_it(written: str, link: str) -> None:
    (span,) = compose_text(post_with(written), "mastodon").rich.spans
    assert span.value == link


def test_text_glued_to_a_link_is_not_a_link() -> None:
    assert compose_text(post_with("voirhttps://example.com/x"), "bluesky").rich.spans == ()


@pytest.mark.parametrize(
    "written",
    [
        "!@bob",
        "(@bob)",
        "@bob's",
        "@bob.",
        "@b-ob",
        "@bob.example",
        "＠bob",
        "@BOB_",
        "$@bob",
        "«@bob»",
    ],
)
def test_no_bare_local_mention_is_left_on_mastodon(written: str) -> None:
    from hirondelle.compose._patterns import MASTODON_MENTION

    text = compose_text(post_with(f"salut {written} !"), "mastodon").rich.text
    assert all("@" in m.group(1) for m in MASTODON_MENTION.finditer(text)), text
