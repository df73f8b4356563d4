"""The `hirondelle import`, `match` and `directory` commands, end to end."""

import json

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.models import Link
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"

    def invoke(*args: str, ok: bool = True):
        result = CliRunner().invoke(main, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1, result.output
        return result

    return invoke


@pytest.fixture
def imported(run, tmp_path):
    spec = sample_spec(seed=11, n_posts=5, n_following=6, n_followers=4)
    run("import", str(write_archive(tmp_path / "archive", spec)))
    return spec


def test_import_then_match_json_has_the_documented_shape(run, imported):
    spec = imported
    followed, follower = spec.following[0], spec.followers[0]
    run("directory", "link", followed, "mastodon", "friend@a.social", "--evidence", "roster")
    run("directory", "link", follower, "bluesky", "fan.bsky.social", "--evidence", "self")
    # Without the findable consent of these people, nobody else may match them.
    out = json.loads(run("match", "--json").output)
    assert out["following"]["mastodon"] == {"auto": 0, "review": 0}
    from hirondelle.identity.services.directory import set_consent

    set_consent(followed, findable=True, auto_followable=True, auto_follow_arrivals=False)
    set_consent(follower, findable=True, auto_followable=True, auto_follow_arrivals=False)
    out = json.loads(run("match", "--json").output)
    zero = {"auto": 0, "review": 0}
    assert out == {
        "following": {"mastodon": {"auto": 1, "review": 0}, "bluesky": zero},
        "followers": {"mastodon": zero, "bluesky": {"auto": 0, "review": 1}},
        "blocks": {"mastodon": zero, "bluesky": zero},
        "mutes": {"mastodon": zero, "bluesky": zero},
    }
    trusting = json.loads(run("match", "--json", "--trust", "self").output)
    assert trusting["followers"]["bluesky"] == {"auto": 1, "review": 0}
    # A what-if does not change the person's choice; --save does.
    assert json.loads(run("match", "--json").output)["followers"]["bluesky"]["auto"] == 0
    run("match", "--trust", "self", "--save")
    assert json.loads(run("match", "--json").output)["followers"]["bluesky"]["auto"] == 1
    table = run("match").output
    assert "following" in table
    assert "mastodon" in table


def test_reimport_reports_an_update(run, imported, tmp_path):
    again = run("import", "--json", str(next((tmp_path / "archive").iterdir())))
    data = json.loads(again.output)
    assert data["created"] is False
    assert data["counts"]["following"] == 6


def test_match_without_an_import_says_what_to_do(run):
    result = run("match", ok=False)
    assert "hirondelle import" in result.output


def test_import_of_a_non_archive_fails_cleanly(run, tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"nope")
    result = run("import", str(bad), ok=False)
    assert "Error:" in result.output
    assert "Traceback" not in result.output


def test_consent_command_sets_the_three_choices(run, imported):
    from hirondelle.identity.models import Consent

    run("directory", "consent", "--findable", "--follow-arrivals")
    consent = Consent.objects.get()
    assert (consent.findable, consent.auto_followable, consent.auto_follow_arrivals) == (
        True,
        False,
        True,
    )


def test_snapshot_commands_sign_verify_and_refuse_tampering(run, tmp_path):
    from hirondelle.identity.services.directory import set_consent

    run("directory", "link", "42", "mastodon", "a@b.social", "--evidence", "domain")
    set_consent(42, findable=True, auto_followable=False, auto_follow_arrivals=False)
    public = run("directory", "keygen", "--name", "Portail").output.strip().splitlines()[-1]
    snapshot = tmp_path / "snap.jsonl"
    assert "1 links" in run("directory", "export", str(snapshot)).output
    refused = run("directory", "import", str(snapshot), ok=False)
    assert "do not trust" in refused.output
    run("directory", "trust", "Portail", public)
    assert "Portail" in run("directory", "keys").output
    assert "Verified" in run("directory", "import", str(snapshot)).output
    snapshot.write_text(snapshot.read_text().replace("a@b.social", "z@b.social"))
    tampered = run("directory", "import", str(snapshot), ok=False)
    assert "snap.jsonl does not match its signature" in tampered.output
    assert not Link.objects.filter(network_account__handle="z@b.social").exists()


def test_roster_and_conflicts_commands(run, tmp_path):
    run("directory", "link", "7", "mastodon", "impostor@evil.example")
    roster = tmp_path / "r.csv"
    roster.write_text("x_id,fediverse\n7,official@gouv.example\n")
    assert "1 accounts" in run("directory", "roster", str(roster), "--institution", "Gouv").output
    listed = json.loads(run("directory", "conflicts", "--json").output)
    assert [c["x_id"] for c in listed] == ["7"]
    assert [(c["handle"], c["state"]) for c in listed[0]["claims"]] == [
        ("official@gouv.example", "current"),
        ("impostor@evil.example", "superseded"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("x_id,fediverse\nabc,x@y.z\n")
    assert "line 2" in run("directory", "roster", str(bad), "--institution", "G", ok=False).output


def test_directory_link_asks_for_the_consent_that_makes_it_matchable(run, imported):
    followed, other = imported.following[0], imported.following[1]
    out = run("directory", "link", followed, "mastodon", "friend@a.social", "--evidence", "roster")
    assert "Not used for matching yet" in out.output
    assert "--findable" in out.output
    assert json.loads(run("match", "--json").output)["following"]["mastodon"]["auto"] == 0
    out = run(
        "directory",
        "link",
        other,
        "mastodon",
        "pal@a.social",
        "--evidence",
        "roster",
        "--auto-followable",
    )
    assert "Their consent is recorded" in out.output
    assert "Not used for matching" not in out.output
    assert json.loads(run("match", "--json").output)["following"]["mastodon"]["auto"] == 1
    # Linking again without the flag keeps the consent, and says nothing against it.
    out = run("directory", "link", other, "mastodon", "pal@a.social", "--evidence", "roster")
    assert "Not used for matching" not in out.output
    assert json.loads(run("match", "--json").output)["following"]["mastodon"]["auto"] == 1
