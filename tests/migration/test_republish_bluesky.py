"""Republishing end to end on the reference atproto stack (PLC + PDS +
AppView on 127.0.0.1): an imported archive's posts become real records with
their original dates, threads, mention facets at the right byte offsets and
images; an interrupted run resumes without a duplicate."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from hirondelle import compose
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import PlanItem
from hirondelle.migration.services import running
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.importing import import_archive
from hirondelle.migration.services.republishing import plan_republish
from hirondelle.networks.base import Network
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def test_posts_arrive_as_records_once(atproto_peer, django_user_model, tmp_path):
    me = atproto_peer.create_account()
    friend = atproto_peer.create_account()
    spec = sample_spec(seed=5, n_posts=30, n_following=5)
    mentioned = next(
        (name, uid) for t in spec.tweets for name, uid in t.mentions if not t.retweet_of
    )
    assert_link(
        mentioned[1],
        "bluesky",
        friend.handle,
        friend.did,
        evidence="roster",
        asserted_by="test",
        x_username=mentioned[0],
    )
    set_consent(mentioned[1], findable=True, auto_followable=True, auto_follow_arrivals=False)

    person = django_user_model.objects.create(username="alice")
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    account = connect_account(
        person,
        Network.BLUESKY,
        atproto_peer.pds,
        {"identifier": me.handle, "app_password": me.app_password},
    )
    # Replies to others included, so the posts mentioning people are in.
    summary = plan_republish(migration, account, filters=compose.Filters(include_replies=True))
    assert summary.parts >= summary.posts > 0

    # An interrupted run: a few posts, then the process "dies" right after the
    # network accepted one more post but before it was recorded.
    running.advance(account, max_batches=3)
    item = PlanItem.objects.filter(state="pending").order_by("position").first()
    from hirondelle.migration.services.adapters import adapter_for
    from hirondelle.migration.services.publishing import publish_item

    adapter = adapter_for(account)
    publish_item(adapter, item)  # the network has it; our database does not know
    adapter.close()
    running.run_until_idle([account], sleep=time.sleep)

    posts = atproto_peer.records(me.did, "app.bsky.feed.post")
    assert len(posts) == summary.parts, "each part exactly once"
    assert PlanItem.objects.filter(kind="post").exclude(state="done").count() == 0

    by_uri = {p["uri"]: p["value"] for p in posts}
    items = {i.remote_id: i for i in PlanItem.objects.filter(kind="post")}
    imported = {p.post_id: p for p in migration.posts.all()}
    for uri, value in by_uri.items():
        item = items[uri]
        original = imported[item.x_id].created_at
        created = datetime.fromisoformat(value["createdAt"].replace("Z", "+00:00"))
        assert abs((created - original).total_seconds()) < 1, "backdated to the X date"
        if "reply" in value:
            assert value["reply"]["parent"]["uri"] in by_uri
            assert value["reply"]["root"]["uri"] in by_uri
        for facet in value.get("facets", []):
            raw = value["text"].encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]]
            feature = facet["features"][0]
            if feature["$type"] == "app.bsky.richtext.facet#mention":
                assert raw.decode() == f"@{friend.handle}"
                assert feature["did"] == friend.did
    assert any("reply" in v for v in by_uri.values()), "threads were rebuilt"
    assert any(
        v.get("embed", {}).get("$type") == "app.bsky.embed.images" for v in by_uri.values()
    ), "images were attached"
    assert any(
        f["features"][0]["$type"] == "app.bsky.richtext.facet#mention"
        for v in by_uri.values()
        for f in v.get("facets", [])
    ), "a mention of a moved person became a mention facet"


def test_images_described_before_and_after_publishing(atproto_peer, django_user_model, tmp_path):
    from hirondelle.migration.services.alt_text import posts_with_images, set_alt_text

    me = atproto_peer.create_account()
    spec = sample_spec(seed=9, n_posts=30, n_following=2)
    person = django_user_model.objects.create(username="bea")
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    account = connect_account(
        person,
        Network.BLUESKY,
        atproto_peer.pds,
        {"identifier": me.handle, "app_password": me.app_password},
    )
    plan_republish(migration, account, filters=compose.Filters(media_only=True))
    first, second = posts_with_images(account)[:2]
    assert not first.described  # nothing is invented
    assert not second.described
    assert set_alt_text(account, first.x_id, ["A swallow on a wire"]) == "kept"
    running.run_until_idle([account], sleep=time.sleep)
    assert set_alt_text(account, second.x_id, ["Two swallows, later"]) == "updated"

    alts = {}
    for record in atproto_peer.records(me.did, "app.bsky.feed.post"):
        embed = record["value"].get("embed", {})
        images = (embed.get("media") or {}).get("images") or embed.get("images") or []
        if images:
            alts[record["uri"]] = images[0]["alt"]
    by_x = {
        i.x_id: i.remote_id
        for i in PlanItem.objects.filter(kind="post", state="done").order_by("-position")
    }
    assert alts[by_x[first.x_id]] == "A swallow on a wire"
    assert alts[by_x[second.x_id]] == "Two swallows, later"
