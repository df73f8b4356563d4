"""Republishing: drafts become post items in order; threads and quotes are
resolved at publish time; resuming never posts twice.

The network is the in-memory double of tests/support/fake_network.py (it
records what it is asked to publish); the real adapters' publishing is
tested against the local atproto stack and mastodon-mock in tests/networks.
"""

from __future__ import annotations

import pytest

from hirondelle import compose
from hirondelle.migration.models import PlanItem
from hirondelle.migration.services import running
from hirondelle.migration.services.republishing import plan_republish
from tests.support.fake_network import FakeAdapter, FakeServer

pytestmark = pytest.mark.django_db


def test_dry_run_counts_without_planning(migration, bluesky_account):
    summary = plan_republish(migration, bluesky_account, dry_run=True)
    assert summary.posts > 0
    assert summary.parts >= summary.posts
    assert PlanItem.objects.count() == 0


def test_plan_is_idempotent_and_ordered(migration, bluesky_account):
    first = plan_republish(migration, bluesky_account)
    assert first.added == first.parts
    again = plan_republish(migration, bluesky_account)
    assert again.added == 0
    items = list(PlanItem.objects.filter(kind="post").order_by("position"))
    seen = set()
    for item in items:
        parent = item.payload["reply_to"]
        if parent and parent["post_id"] in {i.x_id for i in items}:
            assert parent["post_id"] in seen or parent["post_id"] == item.x_id, (
                "a reply is planned before its parent"
            )
        seen.add(item.x_id)


def test_retweets_and_replies_to_others_are_left_out_by_default(migration, bluesky_account):
    plan_republish(migration, bluesky_account)
    planned = set(PlanItem.objects.values_list("x_id", flat=True))
    posts = {p.post_id: p for p in migration.posts.all()}
    assert not any(posts[x].is_retweet for x in planned)
    assert not any(posts[x].reply_to_post_id and not posts[x].is_self_reply for x in planned)
    assert any(p.is_retweet for p in posts.values())  # the archive had some to leave out


def test_date_filters_reach_the_plan(migration, bluesky_account):
    years = sorted({p.created_at.year for p in migration.posts.all()})
    keep = years[-1]
    summary = plan_republish(
        migration,
        bluesky_account,
        filters=compose.Filters(since=__import__("datetime").date(keep, 1, 1)),
        dry_run=True,
    )
    assert set(summary.by_year) == {keep}


def test_threads_are_rebuilt_and_resume_never_posts_twice(migration, bluesky_account):
    plan_republish(migration, bluesky_account)
    total = PlanItem.objects.filter(kind="post").count()
    server = FakeServer()
    adapter = FakeAdapter(server)
    running.advance(bluesky_account, adapter=adapter, max_batches=3)
    assert len(server.posts) == 3
    running.advance(bluesky_account, adapter=adapter)
    assert len(server.posts) == total
    assert len({p.key for p in server.posts}) == total
    by_key = {i.key: i for i in PlanItem.objects.filter(kind="post")}
    replies = [p for p in server.posts if by_key[p.key].payload["reply_to"]]
    assert replies, "the sample archive has threads"
    for post in replies:
        assert post.reply_to is not None
        assert post.thread_root is not None
    # Backdating: the original date travels with every part.
    for post in server.posts:
        assert post.created_at is not None


def test_replies_whose_parent_is_not_republished_link_to_it(migration, spec, bluesky_account):
    """Replies to others (asked for) say whom they answered, with a link to it on X."""
    filters = compose.Filters(include_replies=True)
    summary = plan_republish(migration, bluesky_account, filters=filters)
    others = [t for t in spec.tweets if t.reply_to and t.reply_to_user_id != spec.account.id]
    assert summary.replies_with_link >= len(others) > 0
    for t in others:
        first = PlanItem.objects.filter(x_id=t.id).order_by("position").first()
        assert first.payload["reply_to"] is None
        assert first.payload["text"].startswith("Replying to a post on X: x.com/")
    assert summary.as_dict()["replies_with_link"] == summary.replies_with_link
