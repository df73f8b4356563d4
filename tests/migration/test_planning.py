"""From matches to plan items: trust, review, consent, idempotence."""

from __future__ import annotations

import pytest

from hirondelle.migration.models import PlanItem
from hirondelle.migration.services.planning import build_plan
from tests.migration.conftest import link

pytestmark = pytest.mark.django_db


def test_plan_follows_blocks_and_mutes_above_the_trust_level(migration, spec, mastodon_account):
    strong = spec.following[:5]
    weak = spec.following[5:8]
    for x in strong:
        link(x, evidence="roster")
    for x in weak:
        link(x, evidence="self")
    link(spec.blocks[0], evidence="domain")
    link(spec.mutes[0], evidence="x_oauth")
    summary = build_plan(migration).as_dict()["accounts"][0]
    assert summary["added"] == {"follow": 5, "block": 1, "mute": 1}
    assert summary["review"] == {"following": 3}
    follows = PlanItem.objects.filter(account=mastodon_account, kind="follow")
    assert sorted(follows.values_list("x_id", flat=True)) == sorted(strong)
    assert {i.target_handle for i in follows} == {f"u{x}@remote.example" for x in strong}


def test_planning_again_adds_nothing(migration, spec, mastodon_account):
    for x in spec.following[:4]:
        link(x)
    build_plan(migration)
    again = build_plan(migration).as_dict()["accounts"][0]
    assert again["added"] == {}
    assert again["total"] == {"follow": 4}
    assert PlanItem.objects.count() == 4


def test_approved_review_matches_are_planned(migration, spec, mastodon_account):
    weak = spec.following[0]
    link(weak, evidence="self")
    assert build_plan(migration).as_dict()["accounts"][0]["added"] == {}
    added = build_plan(migration, approved=[("mastodon", weak)]).as_dict()["accounts"][0]["added"]
    assert added == {"follow": 1}


def test_links_without_consent_are_never_planned(migration, spec, mastodon_account):
    link(spec.following[0], consent=False)
    assert build_plan(migration).as_dict()["accounts"][0]["total"] == {}


def test_follow_back_only_when_asked(migration, spec, mastodon_account):
    follower = next(x for x in spec.followers if x not in spec.following)
    link(follower)
    assert build_plan(migration).as_dict()["accounts"][0]["total"] == {}
    summary = build_plan(migration, follow_back=True).as_dict()["accounts"][0]
    assert summary["added"] == {"follow": 1}
    assert PlanItem.objects.get().origin == PlanItem.Origin.FOLLOW_BACK


def test_each_network_gets_its_own_items(migration, spec, mastodon_account, bluesky_account):
    x = spec.following[0]
    link(x, "mastodon")
    link(x, "bluesky")
    build_plan(migration)
    assert set(PlanItem.objects.values_list("account__network", flat=True)) == {
        "mastodon",
        "bluesky",
    }


def test_following_someone_who_wants_review_is_not_automatic(migration, spec, mastodon_account):
    x = spec.following[0]
    link(x, auto=False)  # findable, but did not agree to be followed automatically
    summary = build_plan(migration).as_dict()["accounts"][0]
    assert summary["total"] == {}
    assert summary["review"] == {"following": 1}


def test_big_mastodon_plans_get_importer_files(mastodon_account, tmp_path):
    from django.utils import timezone

    from hirondelle.migration.services.exports import write_mastodon_imports

    PlanItem.objects.bulk_create(
        PlanItem(
            account=mastodon_account,
            kind="follow",
            x_id=str(i),
            target_handle=f"u{i}@remote.example",
            key=f"k{i}",
            next_attempt_at=timezone.now(),
        )
        for i in range(450)
    )
    PlanItem.objects.create(
        account=mastodon_account,
        kind="block",
        x_id="9",
        target_handle="troll@remote.example",
        key="b",
        next_attempt_at=timezone.now(),
    )
    result = write_mastodon_imports(mastodon_account, directory=tmp_path)
    assert result is not None
    assert result.upload_url == "https://home.example/settings/imports"
    names = sorted(p.name for p in result.files)
    assert names == ["blocks.csv", "following.csv"]
    lines = (tmp_path / "following.csv").read_text().splitlines()
    assert lines[0].startswith("Account address,Show boosts")
    assert len(lines) == 451
    assert (tmp_path / "blocks.csv").read_text().splitlines()[1] == "troll@remote.example"


def test_small_mastodon_plans_need_no_importer(mastodon_account, tmp_path):
    from hirondelle.migration.services.exports import write_mastodon_imports

    assert write_mastodon_imports(mastodon_account, directory=tmp_path) is None
