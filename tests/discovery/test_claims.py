"""Reading claims out of text: what counts, what must not, and hostile input."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hirondelle.discovery import (
    ClaimNetwork,
    addresses_in,
    html_to_text,
    is_x_username,
    x_usernames_in,
    x_usernames_in_fields,
)
from hirondelle.discovery.claims import _X_RESERVED as X_PATHS
from hirondelle.discovery.claims import MAX_TEXT

M, B = ClaimNetwork.MASTODON, ClaimNetwork.BLUESKY


def found(text: str) -> list[tuple[str, str, str]]:
    return [(c.network.value, c.address, c.fragment) for c in addresses_in(text)]


# --------------------------------------------------------------- X display name → addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alice 🦋 alice.bsky.social", [("bluesky", "alice.bsky.social", "alice.bsky.social")]),
        ("Alice🦋alice.bsky.social.", [("bluesky", "alice.bsky.social", "alice.bsky.social")]),
        ("Alice (@Alice.Bsky.Social)", [("bluesky", "alice.bsky.social", "@Alice.Bsky.Social")]),
        ("Le Monde 🦋 lemonde.fr", [("bluesky", "lemonde.fr", "lemonde.fr")]),
        ("Le Monde on Bluesky: lemonde.fr", [("bluesky", "lemonde.fr", "lemonde.fr")]),
        ("Le Monde @lemonde.fr", [("bluesky", "lemonde.fr", "@lemonde.fr")]),
        ("Bob @bob@piaille.fr", [("mastodon", "bob@piaille.fr", "@bob@piaille.fr")]),
        ("Bob (@Bob@Piaille.FR)", [("mastodon", "bob@piaille.fr", "@Bob@Piaille.FR")]),
        ("Bob 🐘 bob@piaille.fr", [("mastodon", "bob@piaille.fr", "bob@piaille.fr")]),
        (
            "Paul (paul@mastodon.social)",
            [("mastodon", "paul@mastodon.social", "paul@mastodon.social")],
        ),
        (
            "Zoé zoe@toot.example.social",
            [("mastodon", "zoe@toot.example.social", "zoe@toot.example.social")],
        ),
        (
            "Bob https://piaille.fr/@bob",
            [("mastodon", "bob@piaille.fr", "https://piaille.fr/@bob")],
        ),
        ("piaille.fr/@bob/", [("mastodon", "bob@piaille.fr", "piaille.fr/@bob/")]),
        (
            "https://mastodon.social/@bob@piaille.fr",
            [("mastodon", "bob@piaille.fr", "https://mastodon.social/@bob@piaille.fr")],
        ),
        (
            "https://bsky.app/profile/alice.bsky.social",
            [("bluesky", "alice.bsky.social", "https://bsky.app/profile/alice.bsky.social")],
        ),
        (
            "bsky.app/profile/did:plc:abcdefghijklmnopqrstuvwx",
            [
                (
                    "bluesky",
                    "did:plc:abcdefghijklmnopqrstuvwx",
                    "bsky.app/profile/did:plc:abcdefghijklmnopqrstuvwx",
                )
            ],
        ),
        (
            "me: did:plc:abcdefghijklmnopqrstuvwx",
            [("bluesky", "did:plc:abcdefghijklmnopqrstuvwx", "did:plc:abcdefghijklmnopqrstuvwx")],
        ),
        (
            "Carol 🦋 carol.bsky.social / @carol@eldritch.cafe",
            [
                ("bluesky", "carol.bsky.social", "carol.bsky.social"),
                ("mastodon", "carol@eldritch.cafe", "@carol@eldritch.cafe"),
            ],
        ),
    ],
)
def test_addresses_people_write_in_their_x_names(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Alice",
        "Alice | she/her | Paris",
        "mail me: bob@gmail.com 🐘",  # an e-mail address, even next to an elephant
        "contact bob@example.fr",  # user@host with no fediverse cue: maybe e-mail
        "press@socialmedia-agency.com",
        "Le Monde lemonde.fr",  # a bare domain with no Bluesky cue: a website
        "see example.com/page 🦋",  # a link, not a handle
        "photo.jpg 🦋",  # a file name
        "thanks @bob.Great day",  # a missing space, not a handle
        "🦋 v1.2.3",  # a version number
        "medium.com/@bob",  # Medium, not the fediverse
        "https://www.youtube.com/@bob",
        "https://x.com/@bob",
        "https://piaille.fr/@bob/109238123",  # a post, not a profile
        "https://bsky.app/profile/alice.bsky.social/post/3k",  # a post
        "I'm on bsky.social now 🦋",  # the service, not anyone's handle
        "did:plc:short",
        "did:plc:ABCDEFGHIJKLMNOPQRSTUVWX",  # DIDs are lower case base32
        "@bob@localhost",  # no top-level domain
        "@bob@piaille.local 🦋",
        "bob@@piaille.fr",
        "api.bsky.app:8080 🦋",
        "𝐚𝐥𝐢𝐜𝐞.bsky.social",  # look-alike letters break the claim
        "alice\u200b.bsky.social",  # so does an invisible character
    ],
)
def test_ordinary_text_is_no_address(text):
    assert addresses_in(text) == []


def test_an_address_is_found_once_and_located():
    text = "Alice 🦋 https://bsky.app/profile/alice.bsky.social"
    (claim,) = addresses_in(text)
    assert claim.text == text
    assert text[claim.start : claim.end] == "https://bsky.app/profile/alice.bsky.social"
    assert not claim.is_did


# --------------------------------------------------------------- new profile → X username


def names(text: str) -> list[str]:
    return [c.username for c in x_usernames_in(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x.com/bob", ["bob"]),
        ("https://twitter.com/Bob_1?s=21", ["Bob_1"]),
        ("https://mobile.twitter.com/bob/", ["bob"]),
        ("formerly https://www.x.com/bob.", ["bob"]),
        ("@bob on X", ["bob"]),
        ("@bob on X.", ["bob"]),
        ("@bob sur Twitter", ["bob"]),
        ("ex @bob on twitter", ["bob"]),
        ("@bob (X)", ["bob"]),
        ("@bob on 𝕏", ["bob"]),
        ("X: @bob", ["bob"]),
        ("𝕏: @bob", ["bob"]),
        ("Twitter: @bob", ["bob"]),
        ("X/Twitter: @bob", ["bob"]),
        ("X (Twitter) → @bob", ["bob"]),
        ("@bob@twitter.com", ["bob"]),
        ("x.com/Bob and twitter.com/bob", ["Bob"]),  # once, case-insensitively
        ("Writer. x.com/ann, Mastodon @ann@piaille.fr", ["ann"]),
    ],
)
def test_x_accounts_a_profile_claims(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "thanks @bob for the tip",
        "@bob @carol @dave",
        "I left X last year",
        "x.com/bob/status/12345",  # a post, not a profile
        "twitter.com/i/lists/123",
        "x.com/home",
        "https://x.com/search?q=bob",
        "twitter.com/abcdefghijklmnop",  # 16 characters: no X username
        "box.com/bob",
        "api.x.com/bob",
        "press@twitter.com",  # an e-mail address
        "@bob on Xbox",
        "@bob on Xmas eve",
        "INDEX: @bob",
        "BOX: @bob",
        "@bob on x",  # a lower-case x is a letter, not the network
        "x.com/@",
        "@bob.on X",
    ],
)
def test_ordinary_mentions_are_no_claim(text):
    assert x_usernames_in(text) == []


def test_profile_fields_claim_by_name_or_link():
    fields = [
        ("Twitter", "@bob"),
        ("X (ex-Twitter)", "carol_2"),
        ("Links", '<a href="https://x.com/dave" rel="me">x.com/<span>dave</span></a>'),
        ("Site", "erin"),  # a bare word under another name claims nothing
        ("𝕏", "https://x.com/frank?s=09"),
        ("X", "not a username!"),
    ]
    assert [c.username for c in x_usernames_in_fields(fields)] == [
        "bob",
        "carol_2",
        "dave",
        "frank",
    ]


def test_html_is_read_as_text():
    assert html_to_text("<p>Hi &amp; <a href='x'>x.com/bob</a></p><p>two</p>") == (
        "Hi & x.com/bob\ntwo\n"
    )


def test_x_usernames_are_1_to_15_of_a_to_z_digits_underscore():
    assert is_x_username("a")
    assert is_x_username("Bob_1234567890_")
    assert not is_x_username("")
    assert not is_x_username("abcdefghijklmnop")
    assert not is_x_username("bob.smith")
    assert not is_x_username("bøb")


# --------------------------------------------------------------- hostile input

_X_USER = re.compile(r"[A-Za-z0-9_]{1,15}")
_ANY = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("@./:_-🦋🐘𝕏 xX"),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(_ANY)
def test_any_text_gives_well_formed_claims_only(text):
    for claim in addresses_in(text):
        assert claim.text[claim.start : claim.end] == claim.fragment
        assert claim.fragment
        if claim.network is B:
            assert claim.address.startswith("did:") or re.fullmatch(
                r"[a-z0-9.-]+\.[a-z0-9-]+", claim.address
            )
        else:
            user, host = claim.address.split("@")
            assert user
            assert "." in host
            assert claim.address == claim.address.lower()
    for claim in x_usernames_in(text):
        assert _X_USER.fullmatch(claim.username)
        assert claim.username.lower() in claim.fragment.lower()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"@?[A-Za-z0-9_]{1,15}", fullmatch=True), max_size=8))
def test_plain_mentions_never_claim_an_x_account(mentions):
    text = "thanks " + " ".join(mentions) + " for everything"
    assert x_usernames_in(text) == []


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True))
def test_every_claim_form_gives_the_username_back(username):
    assume(username.lower() not in X_PATHS)  # x.com/home is a page, not an account
    for form in (
        f"x.com/{username}",
        f"https://twitter.com/{username}/",
        f"@{username} on X",
        f"Twitter: @{username}",
    ):
        assert [c.key for c in x_usernames_in(f"Hello. {form}")] == [username.lower()], form


def test_huge_hostile_text_is_read_up_to_the_cap():
    text = ("a." * 50_000) + " @" + "a" * 100_000 + "@" + "b." * 40_000
    assert addresses_in(text) == []
    assert x_usernames_in("x.com/" + "_" * 200_000) == []
    late = "x" * MAX_TEXT + " x.com/bob"
    assert x_usernames_in(late) == []  # past the cap: not read
