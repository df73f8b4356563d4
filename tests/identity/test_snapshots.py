"""Signed snapshots: only consented links leave; tampered or untrusted ones never enter."""

import json
import stat

import pytest

from hirondelle.identity.models import Consent, Link, NetworkAccount, XAccount
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.identity.services.errors import (
    KeyError_,
    SnapshotError,
    TamperedSnapshot,
    UntrustedPublisher,
)
from hirondelle.identity.services.keys import (
    generate_signing_key,
    load_signing_key,
    trust_publisher,
    untrust_publisher,
)
from hirondelle.identity.services.snapshots import export_snapshot, import_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(tmp_path):
    return generate_signing_key("Portail Test", data_dir=tmp_path / "keys")


@pytest.fixture
def directory():
    assert_link(
        1,
        "mastodon",
        "one@a.social",
        "https://a.social/users/one",
        evidence="roster",
        asserted_by="Le Monde",
        x_username="one",
    )
    set_consent(1, findable=True, auto_followable=True, auto_follow_arrivals=False)
    assert_link(2, "bluesky", "two.bsky.social", "did:plc:two", evidence="domain", asserted_by="t")
    set_consent(2, findable=True, auto_followable=False, auto_follow_arrivals=True)
    assert_link(3, "mastodon", "secret@a.social", evidence="x_oauth", asserted_by="t")
    set_consent(3, findable=False, auto_followable=True, auto_follow_arrivals=True)


def _wipe():
    Link.objects.all().delete()
    NetworkAccount.objects.all().delete()
    Consent.objects.all().delete()
    XAccount.objects.all().delete()


def test_signing_key_is_private_to_its_owner(tmp_path, key):
    path = tmp_path / "keys" / "directory_signing_key.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key(data_dir=tmp_path / "keys").public_b64 == key.public_b64
    with pytest.raises(KeyError_, match="--replace"):
        generate_signing_key("Again", data_dir=tmp_path / "keys")


def test_export_writes_only_consented_links(tmp_path, key, directory):
    result = export_snapshot(tmp_path / "dir.jsonl", key=key)
    lines = [json.loads(line) for line in (tmp_path / "dir.jsonl").read_text().splitlines()]
    assert result.lines == 2
    assert [(x["x_id"], x["network"], x["handle"], x["id"], x["evidence"]) for x in lines] == [
        ("1", "mastodon", "one@a.social", "https://a.social/users/one", "roster"),
        ("2", "bluesky", "two.bsky.social", "did:plc:two", "domain"),
    ]
    assert {"asserted_at", "asserted_by", "followable", "follows_arrivals"} <= set(lines[0])
    assert "secret" not in (tmp_path / "dir.jsonl").read_text()
    sig = json.loads((tmp_path / "dir.jsonl.sig").read_text())
    assert (sig["publisher"], sig["public_key"], sig["lines"]) == (
        "Portail Test",
        key.public_b64,
        2,
    )


def test_a_trusted_snapshot_round_trips(tmp_path, key, directory):
    export_snapshot(tmp_path / "dir.jsonl", key=key)
    _wipe()
    trust_publisher("Portail Test", key.public_b64)
    result = import_snapshot(tmp_path / "dir.jsonl")
    assert (result.publisher, result.lines, result.stats.created) == ("Portail Test", 2, 2)
    one = Link.objects.select_related("network_account", "x_account__consent").get(x_account_id=1)
    assert (one.evidence, one.asserted_by, one.publisher.name) == (
        "roster",
        "Le Monde",
        "Portail Test",
    )
    assert one.network_account.uri == "https://a.social/users/one"
    assert one.x_account.username == "one"
    consent = one.x_account.consent
    assert (consent.findable, consent.auto_followable, consent.source) == (True, True, "snapshot")
    assert Consent.objects.get(x_account_id=2).auto_follow_arrivals is True
    again = import_snapshot(tmp_path / "dir.jsonl")
    assert (again.stats.created, again.stats.unchanged, Link.objects.count()) == (0, 2, 2)


def test_a_snapshot_never_overrides_a_local_consent(tmp_path, key, directory):
    export_snapshot(tmp_path / "dir.jsonl", key=key)
    set_consent(1, findable=False, auto_followable=False, auto_follow_arrivals=False)
    trust_publisher("Portail Test", key.public_b64)
    import_snapshot(tmp_path / "dir.jsonl")
    assert Consent.objects.get(x_account_id=1).findable is False


def test_a_tampered_snapshot_is_refused_naming_the_file(tmp_path, key, directory):
    path = tmp_path / "dir.jsonl"
    export_snapshot(path, key=key)
    _wipe()
    trust_publisher("Portail Test", key.public_b64)
    path.write_text(path.read_text().replace("one@a.social", "evil@a.social"))
    with pytest.raises(TamperedSnapshot, match=r"dir\.jsonl does not match its signature"):
        import_snapshot(path)
    assert not Link.objects.exists()


def test_an_added_line_is_refused(tmp_path, key, directory):
    path = tmp_path / "dir.jsonl"
    export_snapshot(path, key=key)
    trust_publisher("Portail Test", key.public_b64)
    first = path.read_text().splitlines()[0]
    with open(path, "a") as f:
        f.write(first.replace('"1"', '"99"') + "\n")
    with pytest.raises(TamperedSnapshot):
        import_snapshot(path)
    assert not XAccount.objects.filter(id=99).exists()


def test_a_signature_by_another_key_is_refused(tmp_path, key, directory):
    path = tmp_path / "dir.jsonl"
    export_snapshot(path, key=key)
    other = generate_signing_key("Mallory", data_dir=tmp_path / "mallory")
    trust_publisher("Mallory", other.public_b64)
    sig = json.loads((tmp_path / "dir.jsonl.sig").read_text())
    sig["public_key"] = other.public_b64  # claims to be Mallory's, signed by someone else
    (tmp_path / "dir.jsonl.sig").write_text(json.dumps(sig))
    with pytest.raises(TamperedSnapshot):
        import_snapshot(path)


def test_an_untrusted_publisher_is_refused_with_the_command_to_trust(tmp_path, key, directory):
    path = tmp_path / "dir.jsonl"
    export_snapshot(path, key=key)
    with pytest.raises(UntrustedPublisher, match="hirondelle directory trust"):
        import_snapshot(path)
    trust_publisher("Portail Test", key.public_b64)
    untrust_publisher("Portail Test")
    with pytest.raises(UntrustedPublisher):
        import_snapshot(path)


def test_a_missing_signature_is_refused(tmp_path, key, directory):
    path = tmp_path / "dir.jsonl"
    export_snapshot(path, key=key)
    (tmp_path / "dir.jsonl.sig").unlink()
    with pytest.raises(SnapshotError, match="no signature"):
        import_snapshot(path)


def test_trusting_a_malformed_key_says_what_a_key_looks_like():
    with pytest.raises(KeyError_, match="44 characters"):
        trust_publisher("X", "not a key")
