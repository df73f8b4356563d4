"""Choosing and ordering the posts of a run; the Mastodon date line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirondelle.archive.records import Media, MediaKind, Post
from hirondelle.compose import ComposeError, Filters, date_line, order, plan, thread_roots
from tests.compose.strategies import EXAMPLES

START = datetime(2019, 1, 1, tzinfo=UTC)


def post(pid: str, day: int = 0, **extra) -> Post:
    return Post(id=pid, created_at=START + timedelta(days=day), text=f"post {pid}", **extra)


def ids(posts) -> list[str]:
    return [p.id for p in posts]


def test_default_filters_leave_out_retweets_and_replies_to_others() -> None:
    posts = [
        post("1"),
        post("2", is_retweet=True),
        post("3", reply_to_post_id="99", reply_to_user_id="5"),  # reply to someone else
        post("4", reply_to_post_id="3", is_self_reply=True, thread_root_id="3"),  # continues it
        post("5", reply_to_post_id="1", is_self_reply=True, thread_root_id="1"),
    ]
    assert ids(plan(posts)) == ["1", "5"]
    # The whole thread goes, even where the archive gives no thread root.
    deeper = post("6", day=1, reply_to_post_id="4", is_self_reply=True)
    assert ids(plan([*posts, deeper])) == ["1", "5"]
    everything = Filters(include_replies=True, include_retweets=True)
    assert ids(plan(posts, everything)) == ["1", "2", "3", "4", "5"]


def test_date_filters_and_excluded_ranges() -> None:
    posts = [post(str(i), day=i * 100) for i in range(1, 10)]  # 2019-04-11 … 2021-06-19
    assert ids(plan(posts, Filters(since=date(2020, 1, 1)))) == ["4", "5", "6", "7", "8", "9"]
    assert ids(plan(posts, Filters(until=date(2019, 7, 20)))) == ["1", "2"]  # inclusive
    leave_out = Filters(exclude=((date(2019, 10, 1), date(2020, 6, 30)),))
    assert ids(plan(posts, leave_out)) == ["1", "2", "6", "7", "8", "9"]
    with pytest.raises(ComposeError, match="empty"):
        Filters(since=date(2020, 1, 2), until=date(2020, 1, 1))


def test_ids_and_media_only() -> None:
    photo = (Media(MediaKind.PHOTO, "u", "1-a.jpg"),)
    gone = (Media(MediaKind.PHOTO, "u", None),)  # not in the archive
    posts = [post("1", media=photo), post("2", media=gone), post("3", is_retweet=True)]
    assert ids(plan(posts, Filters(media_only=True))) == ["1"]
    # Naming a post selects it even when a default filter would not.
    assert ids(plan(posts, Filters(ids=frozenset({"3", "2"})))) == ["2", "3"]


def test_parents_and_quoted_posts_come_first() -> None:
    posts = [
        post("10", day=5, reply_to_post_id="30", is_self_reply=True),  # clock skew: older reply
        post("20", day=1, quoted_post_id="40"),
        post("30", day=6),
        post("40", day=9),
    ]
    assert ids(order(posts)) == ["30", "10", "40", "20"]


def test_cycles_do_not_lose_posts() -> None:
    posts = [
        post("1", reply_to_post_id="2", is_self_reply=True),
        post("2", reply_to_post_id="1", is_self_reply=True),
    ]
    assert sorted(ids(order(posts))) == ["1", "2"]


@st.composite
def forests(draw):
    n = draw(st.integers(1, 40))
    posts = []
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(0, n - 1)))
        quoted = draw(st.one_of(st.none(), st.integers(0, n - 1)))
        day = draw(st.integers(0, 30))
        posts.append(
            post(
                str(1000 + i),
                day=day,
                reply_to_post_id=None if parent is None or parent >= i else str(1000 + parent),
                is_self_reply=parent is not None and parent < i,
                quoted_post_id=None if quoted is None or quoted >= i else str(1000 + quoted),
            )
        )
    return draw(st.permutations(posts))


@settings(max_examples=EXAMPLES, deadline=None)
@given(forests())
def test_order_puts_parents_and_targets_first(posts) -> None:
    ordered = order(posts)
    assert sorted(ids(ordered)) == sorted(ids(posts))
    where = {p.id: i for i, p in enumerate(ordered)}
    for p in ordered:
        for target in (p.reply_to_post_id, p.quoted_post_id):
            if target:
                assert where[target] < where[p.id]
    roots = thread_roots(ordered)
    for p in ordered:
        parent = p.reply_to_post_id
        assert roots[p.id] == (roots[parent] if parent else p.id)


def test_thread_roots_restart_where_a_thread_was_cut() -> None:
    posts = [
        post("1"),
        post("2", day=1, reply_to_post_id="1", is_self_reply=True, thread_root_id="1"),
        post("3", day=2, reply_to_post_id="2", is_self_reply=True, thread_root_id="1"),
        post("4", day=3, reply_to_post_id="3", is_self_reply=True, thread_root_id="1"),
    ]
    kept = plan(posts, Filters(exclude=((START + timedelta(days=1), START + timedelta(days=2)),)))
    assert ids(kept) == ["1", "3", "4"]
    assert thread_roots(kept) == {"1": "1", "3": "3", "4": "3"}


def test_date_line_in_english_and_french() -> None:
    moment = datetime(2019, 3, 12, 23, 30, tzinfo=UTC)
    assert date_line(moment) == "Originally posted on X on 12 March 2019"
    assert date_line(moment, "fr") == "Publié à l’origine sur X le 12 mars 2019"
    assert date_line(datetime(2020, 8, 1), "fr-CA") == "Publié à l’origine sur X le 1er août 2020"
    assert date_line(moment, "de") == "Originally posted on X on 12 March 2019"
    paris = timezone(timedelta(hours=1))
    assert date_line(moment, "en", tz=paris) == "Originally posted on X on 13 March 2019"
    assert date_line(moment, "en", "Sur X, le {date} :") == "Sur X, le 12 March 2019 :"
    with pytest.raises(ComposeError, match="must contain"):
        date_line(moment, "en", "no date here")
    with pytest.raises(ComposeError, match="invalid"):
        date_line(moment, "en", "{date} {oops}")
