"""The review page never shows bare zeros: why little was found, and what next (fr + en)."""

from __future__ import annotations

import pytest

from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.services.importing import import_archive
from tests.portal.conftest import user_of
from tests.support.x_archive import add_names, sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def named_migration(alice, tmp_path):
    spec = sample_spec(seed=21, n_posts=5, n_following=40, n_followers=10)
    truth = add_names(spec, 21)
    migration = import_archive(write_archive(tmp_path, spec), owner=user_of(alice)).migration
    return spec, truth, migration


def test_nothing_found_says_why_and_what_next_in_both_languages(alice, named_migration):
    spec, truth, _ = named_migration
    named = truth.named(spec.following)
    claims = truth.claims(spec.following)
    english = alice.get("/review/", headers={"accept-language": "en"}).content.decode()
    assert "no directory has been imported here" in english
    assert f"your posts name {named} of them" in english
    assert f"{claims} of them put a new address in their X name" in english
    assert "hirondelle directory import" in english
    french = alice.get("/review/", headers={"accept-language": "fr"}).content.decode()
    assert "aucun annuaire n’a été importé ici" in french
    assert f"vos messages en nomment {named}" in french
    assert "Ce que vous pouvez faire ensuite" in french


def test_a_directory_without_my_people_says_so(alice, named_migration):
    assert_link("999999999", "bluesky", "stranger.test", evidence="roster", asserted_by="t")
    set_consent("999999999", findable=True, auto_followable=True, auto_follow_arrivals=False)
    english = alice.get("/review/", headers={"accept-language": "en"}).content.decode()
    assert "nobody of your network is in the directory so far" in english


def test_enough_found_shows_no_advice(alice, named_migration):
    spec, _, _ = named_migration
    for n, x in enumerate(spec.following[:5]):
        assert_link(x, "bluesky", f"friend{n}.test", evidence="roster", asserted_by="t")
        set_consent(x, findable=True, auto_followable=True, auto_follow_arrivals=False)
    response = alice.get("/review/", headers={"accept-language": "en"})
    assert response.context["page"].advice.why is None
    assert 'id="match-advice"' not in response.content.decode()


def test_people_found_are_shown_with_the_name_my_archive_gave_them(alice, named_migration):
    """The X side of a match, as this person's archive knew it (no directory name)."""
    from hirondelle.migration.services.names import names_for

    spec, _, migration = named_migration
    known = names_for(migration, [int(x) for x in spec.following])
    x_id, name = next((x, n) for x, n in known.items() if n.from_archive)
    assert_link(str(x_id), "bluesky", "friend.test", evidence="roster", asserted_by="t")
    set_consent(str(x_id), findable=True, auto_followable=True, auto_follow_arrivals=False)
    page = alice.get("/review/", headers={"accept-language": "en"}).content.decode()
    assert "friend.test" in page
    assert f"@{name.username}" in page
