"""The operator's page plans histories with the same rule as the command line: an archive
is used only when its uploader is provably the official. Against `fedi_peer`, a MOCK of
GoToSocial (tests/support/fedi_server.py)."""

from __future__ import annotations

import pytest

from hirondelle.identity.models import x_id_from_db
from hirondelle.institutions.models import Institution
from hirondelle.migration.models import PlanItem
from hirondelle.migration.services.importing import import_archive
from tests.institutions.test_fedi_history import claimed_official
from tests.support.institution_roster import sign_in_as_official
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def _act(client, institution: Institution, action: str) -> list[str]:
    response = client.post(
        "/admin/institutions/institution/",
        {"action": action, "_selected_action": [institution.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_the_admin_plans_only_an_archive_the_official_uploaded(
    fedi_peer, tmp_path, django_user_model, client
):
    fedi_peer.reset(engine="gotosocial")
    official = claimed_official(fedi_peer, "gotosocial", "adminhist")
    client.force_login(django_user_model.objects.create_superuser("operator", "op@example.fr"))
    own_id = str(x_id_from_db(official.x_id))

    forger = django_user_model.objects.create(username="forger")
    forged = sample_spec(seed=5, n_posts=3, account_id=own_id)
    import_archive(write_archive(tmp_path / "forged", forged), owner=forger)
    said = _act(client, official.institution, "plan_histories")
    assert any("nothing proves the uploader is the official" in m for m in said), said
    assert "history planned for 0 officials" in " ".join(said)
    assert not PlanItem.objects.exists()

    owner = django_user_model.objects.create(username="the-official")
    spec = sample_spec(seed=6, n_posts=6, account_id=own_id)
    import_archive(write_archive(tmp_path / "own", spec), owner=owner)
    sign_in_as_official(owner, official, "mastodon")
    said = _act(client, official.institution, "plan_histories")
    assert "history planned for 1 officials" in " ".join(said), said
    official.refresh_from_db()
    assert official.history_account is not None
    assert official.history_account.user == owner  # never the forger's
    assert PlanItem.objects.filter(account=official.history_account).exists()
    assert not PlanItem.objects.filter(account__user=forger).exists()
