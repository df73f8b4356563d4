"""An official's history republished on the institution's own fediverse server, against
`fedi_peer`, a MOCK of Mastodon and GoToSocial (tests/support/fedi_server.py says what it
imitates from which source file): backdated on GoToSocial (read back: `created_at` is the
X date, and the posts stay off timelines), dated and unlisted on Mastodon, which ignores a
past `scheduled_at`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from hirondelle import compose
from hirondelle.identity.models import x_id_from_db
from hirondelle.institutions.models import Official
from hirondelle.institutions.services import fediverse
from hirondelle.institutions.services.history import finish_history, plan_history
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from hirondelle.institutions.services.status import status
from hirondelle.migration.services import running
from hirondelle.migration.services.importing import import_archive
from tests.support.fedi_server import ADMIN_TOKEN, USER_TOKEN
from tests.support.institution_roster import roster_csv, sign_in_as_official
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def claimed_official(peer, kind: str, slug: str) -> Official:
    """One official registered, approved, e-mail confirmed and profile set."""
    inst = add_institution(slug, "Sénat (test)", page_url=f"https://www.example.fr/{slug}.html")
    set_server(
        inst,
        kind,
        peer.base_url,
        "social.senat.example",
        credentials={"admin_token": ADMIN_TOKEN, "invite_code": peer.invite(max_uses=1)},
    )
    load_roster(inst, roster_csv(1, email_tag=slug))
    fediverse.provision(inst)
    official = Official.objects.get(institution=inst)
    peer.confirm_email(official.email)
    assert fediverse.provision(inst).profiles == 1
    official.refresh_from_db()
    return official


def republish(official, tmp_path, user, seed: int):
    spec = sample_spec(seed=seed, n_posts=14, account_id=str(x_id_from_db(official.x_id)))
    migration = import_archive(write_archive(tmp_path, spec), owner=user).migration
    sign_in_as_official(user, official, "mastodon")
    summary = plan_history(official, migration, network="mastodon")
    official.refresh_from_db()
    running.run_until_idle([official.history_account], sleep=time.sleep)
    return spec, summary


def own_dates(spec) -> set[datetime]:
    """The X dates of the official's own posts (not retweets, not replies to others)."""
    me = spec.account.id
    return {
        t.created_at.astimezone(UTC).replace(microsecond=0)
        for t in spec.tweets
        if not t.retweet_of and (t.reply_to is None or t.reply_to_user_id == me)
    }


def read_back(peer, official) -> list[dict]:
    me = peer.get("/api/v1/accounts/lookup", acct=official.fediverse_address.split("@")[0])["id"]
    return peer.get(f"/api/v1/accounts/{me}/statuses", limit=40)


def parsed(status: dict) -> datetime:
    return datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")).replace(
        microsecond=0
    )


def test_gotosocial_history_is_backdated_and_kept_off_timelines(
    fedi_peer, tmp_path, django_user_model
):
    fedi_peer.reset(engine="gotosocial")
    official = claimed_official(fedi_peer, "gotosocial", "gts")
    me = fedi_peer.get("/api/v1/accounts/lookup", acct=official.fediverse_address.split("@")[0])
    assert fedi_peer.call("POST", f"/api/v1/accounts/{me['id']}/follow", USER_TOKEN).ok

    person = django_user_model.objects.create(username="gts-official")
    spec, summary = republish(official, tmp_path, person, seed=6)
    assert official.history_account.credentials["backdate"] is True
    statuses = read_back(fedi_peer, official)
    assert len(statuses) == summary.parts > 0
    dates = {parsed(s) for s in statuses}
    assert dates <= own_dates(spec)  # each post carries its X date, read back from the server
    assert len(dates) == summary.posts
    assert all(s["visibility"] == "public" for s in statuses)
    assert all(s["reblog"] is None for s in statuses)
    assert not any(compose.date_line(d, "fr")[:12] in s["content"] for s in statuses for d in dates)

    # a post of today reaches the follower's home timeline; the backdated ones never do
    token = official.fediverse_secret["token"]
    assert fedi_peer.call("POST", "/api/v1/statuses", token, data={"status": "Arrivée"}).ok
    home = fedi_peer.get("/api/v1/timelines/home", USER_TOKEN)
    public = fedi_peer.get("/api/v1/timelines/public")
    assert [s["content"] for s in home if s["account"]["id"] == me["id"]] == ["<p>Arrivée</p>"]
    assert [s["content"] for s in public if s["account"]["id"] == me["id"]] == ["<p>Arrivée</p>"]
    assert fedi_peer.get("/api/v1/notifications", USER_TOKEN) == []

    assert finish_history(official)
    assert status(official.institution).history_imported == 1


def test_mastodon_history_is_dated_and_unlisted(fedi_peer, tmp_path, django_user_model):
    official = claimed_official(fedi_peer, "mastodon", "masto")
    person = django_user_model.objects.create(username="masto-official")
    spec, summary = republish(official, tmp_path, person, seed=4)
    assert "backdate" not in official.history_account.credentials
    statuses = read_back(fedi_peer, official)
    assert len(statuses) == summary.parts > 0
    assert 0 < summary.posts < len(spec.tweets)  # retweets and replies to others left out
    assert all(s["visibility"] == "unlisted" for s in statuses)
    assert all(s["reblog"] is None for s in statuses)
    latest = max(own_dates(spec))
    assert all(parsed(s) > latest for s in statuses)  # dated the day they went out
    me = statuses[0]["account"]["id"]
    assert not [s for s in fedi_peer.get("/api/v1/timelines/public") if s["account"]["id"] == me]
    assert finish_history(official)


def test_mastodon_ignores_a_past_scheduled_at_and_gotosocial_backdates(fedi_peer):
    """What each engine does with the same request (post_status_service.rb, create.go)."""
    past = "2019-03-04T05:06:00+00:00"
    answer = fedi_peer.call(
        "POST", "/api/v1/statuses", USER_TOKEN, data={"status": "a", "scheduled_at": past}
    )
    assert answer.ok
    assert not answer.json()["created_at"].startswith("2019-03-04")

    fedi_peer.reset(engine="gotosocial")
    answer = fedi_peer.call(
        "POST", "/api/v1/statuses", USER_TOKEN, data={"status": "a", "scheduled_at": past}
    )
    assert answer.json()["created_at"].startswith("2019-03-04T05:06:00")
    refused = {
        "mention": {"status": "hello @admin", "scheduled_at": past},
        "epoch": {"status": "a", "scheduled_at": "1970-01-01T00:00:00+00:00"},
    }
    assert fedi_peer.call("POST", "/api/v1/statuses", USER_TOKEN, data=refused["mention"]).json()[
        "error"
    ] == ("statuses mentioning others can't be backfilled")
    assert (
        fedi_peer.call("POST", "/api/v1/statuses", USER_TOKEN, data=refused["epoch"]).status_code
        == 406
    )
    fedi_peer.configure(allow_backdating=False)
    off = fedi_peer.call(
        "POST", "/api/v1/statuses", USER_TOKEN, data={"status": "b", "scheduled_at": past}
    )
    assert off.status_code == 403


def test_history_command_uses_only_the_officials_own_uploads(
    fedi_peer, tmp_path, django_user_model
):
    from click.testing import CliRunner

    from hirondelle.cli import main

    fedi_peer.reset(engine="gotosocial")
    official = claimed_official(fedi_peer, "gotosocial", "cmd")
    inst = official.institution
    run = CliRunner().invoke
    first = run(main, ["institution", "history", inst.slug, "--network", "fediverse"])
    assert first.exit_code == 0, first.output
    assert "no archive yet" in first.output
    assert "History planned for 0 of 1 officials" in first.output

    # someone else's archive is not the official's consent: still nothing planned
    stranger = django_user_model.objects.create(username="stranger")
    import_archive(write_archive(tmp_path / "x", sample_spec(seed=2, n_posts=4)), owner=stranger)
    assert (
        "no archive yet"
        in run(main, ["institution", "history", inst.slug, "--network", "fediverse"]).output
    )

    # nor is an archive that merely says it is the official's X account
    forger = django_user_model.objects.create(username="forger")
    forged = sample_spec(seed=5, n_posts=3, account_id=str(x_id_from_db(official.x_id)))
    import_archive(write_archive(tmp_path / "forged", forged), owner=forger)
    refused = run(main, ["institution", "history", inst.slug, "--network", "fediverse"]).output
    assert "nothing proves the uploader is the official" in refused
    assert "History planned for 0 of 1 officials" in refused

    owner = django_user_model.objects.create(username="cmd-official")
    spec = sample_spec(seed=6, n_posts=8, account_id=str(x_id_from_db(official.x_id)))
    import_archive(write_archive(tmp_path / "own", spec), owner=owner)
    sign_in_as_official(owner, official, "mastodon")
    planned = run(main, ["institution", "history", inst.slug, "--network", "fediverse"])
    assert "History planned for 1 of 1 officials" in planned.output
    assert " 0 new" not in planned.output
    again = run(main, ["institution", "history", inst.slug, "--network", "fediverse"])
    assert " 0 new" in again.output  # nothing planned twice

    assert "history imported: 0" in run(main, ["institution", "status", inst.slug]).output
    official.refresh_from_db()
    running.run_until_idle([official.history_account], sleep=time.sleep)
    assert "history imported: 1" in run(main, ["institution", "status", inst.slug]).output
    statuses = read_back(fedi_peer, official)
    assert {parsed(s) for s in statuses} <= own_dates(spec)
