"""The entry point: drafts for one post and one network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirondelle.archive.records import Media, MediaKind
from hirondelle.compose import (
    BLUESKY,
    LAST,
    MASTODON,
    ComposeError,
    Filters,
    Options,
    PartRef,
    draft_key,
    fits,
    prepare,
    prepare_many,
)
from hirondelle.compose._patterns import MASTODON_MENTION
from hirondelle.networks.base import Network, PublishedPost, RemoteAccount
from tests.compose.strategies import (
    EXAMPLES,
    bluesky_resolver,
    mastodon_resolver,
    post_with,
    texts,
)
from tests.compose.test_facets import check_facets

WHEN = datetime(2019, 3, 12, 8, 30, tzinfo=UTC)
LONG = " ".join(f"Phrase numéro {i} d'un long fil 🧵." for i in range(40))
PHOTOS = tuple(Media(MediaKind.PHOTO, f"u{i}", f"1000-{i}.jpg") for i in range(2))


def test_one_short_post_on_bluesky() -> None:
    post = post_with(
        "Bonjour @alice #Paris", lang="fr", media=PHOTOS, possibly_sensitive=True, id="1000"
    )
    (draft,) = prepare(post, "bluesky", resolve_mention=bluesky_resolver)
    assert draft.text == "Bonjour @alice.bsky.social #Paris"
    assert draft.created_at == WHEN  # backdated to the original
    assert draft.key == draft_key("1000", 0, "bluesky") == "hirondelle:bluesky:x1000:0"
    assert [f["features"][0]["$type"].rsplit("#")[1] for f in draft.facets] == ["mention", "tag"]
    assert [m.path for m in draft.media] == ["1000-0.jpg", "1000-1.jpg"]
    assert draft.sensitive
    assert draft.language == "fr"
    assert (draft.reply_to, draft.thread_root, draft.quote) == (None, None, None)
    assert (draft.part, draft.parts) == (0, 1)


def test_a_long_post_becomes_a_thread() -> None:
    post = post_with(LONG, media=PHOTOS, possibly_sensitive=True, is_long=True, id="1000")
    drafts = prepare(post, "bluesky")
    assert len(drafts) > 1
    assert all(fits(d.text, BLUESKY) for d in drafts)
    assert drafts[0].text.endswith(f" (1/{len(drafts)})")
    assert drafts[0].media
    assert not any(d.media for d in drafts[1:])
    assert drafts[0].sensitive
    assert not any(d.sensitive for d in drafts[1:])
    for index, draft in enumerate(drafts[1:], start=1):
        assert draft.reply_to == PartRef("1000", index - 1)
        assert draft.thread_root == PartRef("1000", 0)
        assert draft.created_at == WHEN + timedelta(milliseconds=index)
    assert len({d.key for d in drafts}) == len(drafts)
    # Stable: the same post gives the same drafts, so retries find their keys.
    assert prepare(post, "bluesky") == drafts


def test_thread_continues_after_the_parents_last_part() -> None:
    post = post_with("suite", id="3", reply_to_post_id="2", is_self_reply=True, thread_root_id="1")
    published = {"1": PublishedPost("at://1"), "2": PublishedPost("at://2")}
    (draft,) = prepare(post, "bluesky", published=published)
    assert draft.reply_to == PartRef("2", LAST)
    assert draft.thread_root == PartRef("1", 0)
    # The root is not republished: the publisher takes the parent's own root.
    (draft,) = prepare(post, "bluesky", pending={"2"})
    assert (draft.reply_to, draft.thread_root) == (PartRef("2", LAST), None)
    # …and so do the later parts of a long reply: they are in the same thread.
    long_reply = replace(post, text=LONG)
    drafts = prepare(long_reply, "bluesky", pending={"2"})
    assert [d.thread_root for d in drafts] == [None] * len(drafts)
    assert drafts[1].reply_to == PartRef("3", 0)
    drafts = prepare(long_reply, "bluesky", published=published)
    assert {d.thread_root for d in drafts} == {PartRef("1", 0)}
    # With the run's roots, the thread restarts where it was cut.
    (draft,) = prepare(post, "bluesky", pending={"2"}, roots={"2": "2", "3": "2"})
    assert draft.thread_root == PartRef("2", 0)
    # Parent and root republished by an earlier run: this run's roots know neither.
    (draft,) = prepare(post, "bluesky", published=published, roots={"3": "3"})
    assert draft.thread_root == PartRef("1", 0)


def test_reply_whose_parent_is_not_republished_says_whom_it_answered() -> None:
    post = post_with("@bob oui", id="3", reply_to_post_id="2", reply_to_screen_name="bob")
    (draft,) = prepare(post, "bluesky")
    assert draft.reply_to is None
    assert draft.thread_root is None
    assert draft.answers == "2"
    assert draft.text.startswith("Replying to a post on X: x.com/bob/status/2\n\n")
    link = next(f for f in draft.facets if "link" in f["features"][0]["$type"])
    assert link["features"][0]["uri"] == "https://x.com/bob/status/2"
    # One's own post left out (by a date filter): the thread says where it came from.
    own = replace(post, is_self_reply=True, reply_to_screen_name="me", text="suite")
    (draft,) = prepare(own, "mastodon", options=Options(language="fr"))
    assert draft.text.startswith("Suite d’un message précédent sur X : https://x.com/me/status/2")
    # A parent republished in this run or before: a real reply, no line.
    (draft,) = prepare(post, "bluesky", pending={"2"})
    assert (draft.reply_to, draft.answers) == (PartRef("2", LAST), None)
    assert draft.text == "@bob oui"


def test_mastodon_states_the_original_date() -> None:
    post = post_with("Bonjour @alice", lang="fr")
    (draft,) = prepare(post, "mastodon", resolve_mention=mastodon_resolver)
    assert draft.text == "Bonjour @alice@mastodon.social\n\nOriginally posted on X on 12 March 2019"
    assert draft.visibility == "unlisted"
    assert draft.facets == ()
    french = Options(language="fr", date_line="first", visibility="public")
    (draft,) = prepare(post, "mastodon", resolve_mention=mastodon_resolver, options=french)
    assert (
        draft.text == "Publié à l’origine sur X le 12 mars 2019\n\nBonjour @alice@mastodon.social"
    )
    assert draft.visibility == "public"
    (draft,) = prepare(post, "mastodon", options=Options(date_line="none"))
    assert draft.text == "Bonjour https://x.com/alice"


def test_mastodon_thread_has_the_date_once_and_fits() -> None:
    drafts = prepare(post_with(LONG * 2), "mastodon")
    assert len(drafts) > 1
    assert all(fits(d.text, MASTODON) for d in drafts)
    assert [("Originally posted" in d.text) for d in drafts] == [False] * (len(drafts) - 1) + [True]
    assert drafts[-1].text.endswith(f"({len(drafts)}/{len(drafts)})\n\n" + drafts[-1].text[-39:])


def test_server_limits_are_honoured() -> None:
    roomy = replace(MASTODON, max_graphemes=5000)
    assert len(prepare(post_with(LONG), "mastodon", limits=roomy)) == 1
    with pytest.raises(ComposeError, match="limits for bluesky"):
        prepare(post_with("x"), "mastodon", limits=BLUESKY)


def test_language_falls_back_to_the_persons() -> None:
    assert prepare(post_with("lol", lang="und"), "bluesky")[0].language == "en"
    options = Options(language="fr")
    assert prepare(post_with("ok", lang="qme"), "bluesky", options=options)[0].language == "fr"
    assert prepare(post_with("ok", lang="in"), "bluesky")[0].language == "id"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ComposeError, match="visibility 'secret'"):
        Options(visibility="secret")
    with pytest.raises(ComposeError, match="date_line"):
        Options(date_line="middle")


def test_prepare_many_plans_and_reports_posts_that_cannot_go() -> None:
    posts = [
        post_with("deux", id="2", created_at=WHEN, reply_to_post_id="1", is_self_reply=True),
        post_with("un", id="1", created_at=WHEN + timedelta(hours=1)),
        post_with("salut @huge", id="3"),  # whose new address is longer than a post
        post_with("RT @bob: hello", id="4", is_retweet=True),
    ]

    def resolver(name):
        if name == "huge":
            return RemoteAccount(Network.MASTODON, "https://h.example/u", "h" * 600 + "@h.example")

    results = list(prepare_many(posts, "mastodon", filters=Filters(), resolve_mention=resolver))
    assert [r.post.id for r in results] == ["3", "1", "2"]
    failed, first, second = results
    assert isinstance(failed.error, ComposeError)
    assert not failed.drafts
    assert first.error is None
    assert second.drafts[0].reply_to == PartRef("1", LAST)


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=texts(), network=st.sampled_from(["bluesky", "mastodon"]), first=st.booleans())
def test_every_draft_fits_its_network(text: str, network: str, first: bool) -> None:
    options = Options(date_line="first" if first else "last", language="fr")
    resolver = bluesky_resolver if network == "bluesky" else mastodon_resolver
    if not text.strip():
        with pytest.raises(ComposeError, match="nothing to republish"):
            prepare(post_with(text), network, options=options)
        return
    drafts = prepare(post_with(text), network, resolve_mention=resolver, options=options)
    limits = BLUESKY if network == "bluesky" else MASTODON
    assert all(fits(d.text, limits) for d in drafts)
    assert [d.part for d in drafts] == list(range(len(drafts)))
    if network == "mastodon":
        dated = [d for d in drafts if "Publié à l’origine sur X le 12 mars 2019" in d.text]
        assert dated == [drafts[0] if first else drafts[-1]]
        for draft in drafts:
            # No bare "@name" is left: Mastodon would mention a stranger on the server.
            for mention in MASTODON_MENTION.finditer(draft.text):
                assert "@" in mention.group(1), (mention.group(0), draft.text)
    else:
        for draft in drafts:
            check_facets(draft.text, list(draft.facets))


def test_a_post_with_nothing_left_to_show_is_refused() -> None:
    absent = (Media(MediaKind.PHOTO, "u", None),)
    with pytest.raises(ComposeError, match="nothing to republish"):
        prepare(post_with("", media=absent), "mastodon")
    (draft,) = prepare(post_with("", media=PHOTOS), "mastodon")
    assert draft.text == "Originally posted on X on 12 March 2019"
    assert len(draft.media) == 2
    (draft,) = prepare(post_with("", media=PHOTOS), "bluesky")
    assert draft.text == ""
