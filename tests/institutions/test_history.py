"""An official's own archive republished on their new account on the real PDS
(see conftest), before the account is announced: own posts only, backdated."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from hirondelle.identity.models import x_id_from_db
from hirondelle.institutions.models import Official
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.institutions.services.history import finish_history, plan_history
from hirondelle.institutions.services.roster import load_roster
from hirondelle.migration.services import running
from hirondelle.migration.services.importing import import_archive
from tests.support.institution_roster import roster_csv, sign_in_as_official
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db(transaction=True)


def test_own_posts_backdated_no_retweets_no_replies(
    make_institution, institution_pds, tag, tmp_path, django_user_model
):
    inst = make_institution()
    load_roster(inst, roster_csv(1, email_tag=tag))
    bluesky.provision(inst, packs=False)
    official = Official.objects.get(institution=inst)
    person = django_user_model.objects.create(username=f"official-{tag}")

    other = import_archive(
        write_archive(tmp_path / "other", sample_spec(seed=3, n_posts=5)), owner=person
    ).migration
    with pytest.raises(InstitutionError, match="another X account"):
        plan_history(official, other)

    spec = sample_spec(seed=9, n_posts=25, account_id=str(x_id_from_db(official.x_id)))
    migration = import_archive(write_archive(tmp_path / "own", spec), owner=person).migration
    with pytest.raises(InstitutionError, match="nothing proves the uploader is the official"):
        plan_history(official, migration)  # the archive's word alone is not enough
    sign_in_as_official(person, official, "bluesky")
    summary = plan_history(official, migration)
    assert summary.posts > 0
    assert not finish_history(official)
    running.run_until_idle([official.history_account], sleep=time.sleep)
    assert finish_history(official)

    records = institution_pds.records(official.bluesky_did, "app.bsky.feed.post")
    assert len(records) == summary.parts
    assert any(t.retweet_of for t in spec.tweets)  # the archive has retweets to leave out
    assert summary.posts < len(spec.tweets)
    assert not any(r["value"]["text"].startswith("RT @") for r in records)
    for r in records:  # replies only within the official's own threads
        if "reply" in r["value"]:
            assert r["value"]["reply"]["root"]["uri"].startswith(f"at://{official.bluesky_did}/")
    dates = sorted(
        datetime.fromisoformat(r["value"]["createdAt"].replace("Z", "+00:00")) for r in records
    )
    assert dates[0].year < 2026  # backdated to the X dates, not today
