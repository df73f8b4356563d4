"""Names the archive gives to the graph's bare X ids, read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirondelle.archive import NameIndex, Post, open_archive, summarize
from hirondelle.archive.records import Mention
from hirondelle.discovery import addresses_in
from tests.archive.conftest import assert_no_private_opened
from tests.support.x_archive import add_names, expected_posts, sample_spec, write_archive

LAYOUTS = [
    ("2024", None),
    ("2024", {"tweets": 3, "note-tweet": 2, "community-tweet": 2, "following": 2}),
    ("2021", {"tweet": 2}),
    ("2019", None),
]


def _spec(seed: int = 5):
    spec = sample_spec(seed, n_posts=60, n_following=50, n_followers=40, n_blocks=4, n_mutes=3)
    return spec, add_names(spec, seed)


@pytest.mark.parametrize(("era", "parts"), LAYOUTS)
def test_every_named_id_gets_its_most_recent_name(tmp_path, opened, era, parts):
    spec, truth = _spec()
    path = write_archive(tmp_path, spec, era=era, parts=parts)
    with open_archive(path) as archive:
        names = archive.names()
    graph = {*spec.following, *spec.followers, *spec.blocks, *spec.mutes}
    for x_id, want in truth.names.items():
        got = names[x_id]
        assert (got.username, got.display_name, got.post_id, got.source) == (
            want.username,
            want.display_name,
            want.post_id,
            want.source,
        ), x_id
    # The graph ids the posts never name (or name in a reply that lacks its
    # screen name) stay unnamed.
    assert {x for x in graph if x in names} == {x for x in graph if x in truth.names}
    assert truth.unnamed_replies
    assert not truth.unnamed_replies & names.keys()
    assert spec.account.id not in names  # the owner's own name comes from account.js
    assert_no_private_opened(opened)


def test_the_scenario_covers_what_real_archives_do():
    spec, truth = _spec()
    sources = {n.source for n in truth.names.values()}
    assert sources == {"mention", "reply", "note", "community", "quote"}
    renamed = [n for n in truth.names.values() if n.claim and n.claim[1].startswith("old")]
    assert renamed, "a display name from an earlier username must survive a reply-only sighting"
    graph = {*spec.following, *spec.followers, *spec.blocks, *spec.mutes}
    assert set(truth.names) - graph, "accounts outside the graph are named too"


def test_summary_counts_named_accounts_per_relation_exactly(tmp_path):
    spec, truth = _spec(seed=8)
    path = write_archive(tmp_path, spec)
    with open_archive(path) as archive:
        summary = summarize(archive)
    assert summary["named"] == {
        "following": truth.named(spec.following),
        "followers": truth.named(spec.followers),
        "blocks": truth.named(spec.blocks),
        "mutes": truth.named(spec.mutes),
    }
    assert summary["named"]["following"] == int(len(set(spec.following)) * 0.6)
    assert summary["named"]["blocks"] == 1


def test_claims_in_display_names_are_read(tmp_path):
    spec, truth = _spec(seed=9)
    with open_archive(write_archive(tmp_path, spec)) as archive:
        names = archive.names()
    with_claims = {x: n for x, n in truth.names.items() if n.claim}
    assert len(with_claims) >= 5
    for x, want in truth.names.items():
        got = [(c.network.value, c.address) for c in addresses_in(names[x].display_name)]
        assert got == ([want.claim] if want.claim else []), names[x].display_name


def test_posts_keep_mention_display_names_out_of_equality(tmp_path):
    spec, _ = _spec(seed=2)
    with open_archive(write_archive(tmp_path, spec)) as archive:
        posts = sorted(archive.posts(), key=lambda p: int(p.id))
    assert posts == expected_posts(spec)
    assert any(m.name for p in posts for m in p.mentions)


def _post(pid: str, when: datetime, **kw) -> Post:
    return Post(id=pid, created_at=when, text="", **kw)


def test_a_username_that_changed_hands_is_not_followed_to_its_new_owner():
    d = [datetime(2020 + y, 1, 1, tzinfo=UTC) for y in range(5)]
    index = NameIndex(own_id="1")
    index.add(_post("10", d[0], mentions=(Mention("alice", "100", "Alice A"),)))
    index.add(_post("11", d[1], mentions=(Mention("alice2", "100", "Alice B"),)))
    index.add(_post("12", d[2], mentions=(Mention("alice", "200", "New Alice"),)))
    index.add(_post("13", d[3], quoted_screen_name="alice", quoted_post_id="9"))
    index.add(_post("14", d[4], reply_to_post_id="8", reply_to_user_id="1"))  # self: no name
    names = index.names()
    assert (names["100"].username, names["100"].display_name, names["100"].post_id) == (
        "alice2",
        "Alice B",
        "11",
    )
    # The quote of "alice" goes to its holder at the time: id 200.
    assert (names["200"].username, names["200"].post_id, names["200"].source) == (
        "alice",
        "13",
        "quote",
    )
    assert "1" not in names


def test_two_ids_last_seen_with_one_username_get_no_username_only_sighting():
    d = [datetime(2021, m, 1, tzinfo=UTC) for m in range(1, 5)]
    index = NameIndex()
    index.add(_post("1", d[0], mentions=(Mention("bob", "100", "Bob"),)))
    index.add(_post("2", d[1], mentions=(Mention("bob", "200", "Bob too"),)))
    index.add(_post("3", d[2], quoted_screen_name="bob", quoted_post_id="9"))
    names = index.names()
    assert (names["100"].post_id, names["200"].post_id) == ("1", "2")


def test_hostile_names_are_ignored():
    when = datetime(2022, 1, 1, tzinfo=UTC)
    index = NameIndex()
    index.add(
        _post(
            "1",
            when,
            mentions=(
                Mention("bob smith", "100", "x"),
                Mention("ok_name", "not-an-id", "x"),
                Mention("élodie", "101", "x"),
                Mention("a" * 21, "102", "x"),
            ),
            reply_to_post_id="5",
            reply_to_user_id="103",
            reply_to_screen_name="",
        )
    )
    assert index.names() == {}


_SIGHTINGS = st.lists(
    st.tuples(
        st.sampled_from(["100", "200", "300"]),  # X id
        st.sampled_from(["ann", "bob", "cyd", "dee"]),  # username
        st.sampled_from(["", "Ann", "Bob 🦋 bob.bsky.social"]),  # display name ("" = a reply)
        st.booleans(),  # a quote (username only) rather than a mention
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(_SIGHTINGS, st.randoms(use_true_random=False))
def test_the_most_recent_sighting_wins_whatever_the_file_order(sightings, rnd):
    posts = []
    for day, (x_id, user, display, quote) in enumerate(sightings):
        when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day)
        if quote:
            posts.append(_post(str(day), when, quoted_screen_name=user, quoted_post_id="1"))
        elif display:
            posts.append(_post(str(day), when, mentions=(Mention(user, x_id, display),)))
        else:
            posts.append(
                _post(
                    str(day),
                    when,
                    reply_to_post_id="1",
                    reply_to_user_id=x_id,
                    reply_to_screen_name=user,
                )
            )
    index = NameIndex()
    for post in posts:
        index.add(post)
    in_order = index.names()
    rnd.shuffle(posts)
    shuffled = NameIndex()
    for post in posts:
        shuffled.add(post)
    assert shuffled.names() == in_order
    # The model: per id, the latest tied sighting; its display name the latest shown.
    for x_id in {s[0] for s in sightings if not s[3]}:
        tied = [(d, s) for d, s in enumerate(sightings) if s[0] == x_id and not s[3]]
        day, (_, user, _, _) = tied[-1]
        shown = [s[2] for _, s in tied if s[2]]
        got = in_order[x_id]
        assert got.display_name == (shown[-1] if shown else "")
        holders = {
            other
            for other in {s[0] for s in sightings if not s[3]}
            if [s for s in sightings if s[0] == other and not s[3]][-1][1] == user
        }
        later_quotes = [d for d, s in enumerate(sightings) if s[3] and s[1] == user and d > day]
        if len(holders) == 1 and later_quotes:
            assert (got.username, got.post_id, got.source) == (user, str(later_quotes[-1]), "quote")
        else:
            assert (got.username, got.post_id) == (user, str(day))
