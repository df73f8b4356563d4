"""Names from the archive on import, `discover --offline`, and match advice."""

from __future__ import annotations

import json
import random
import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.models import XAccount, x_id_from_db, x_id_to_db
from hirondelle.migration.models import ArchiveName
from hirondelle.migration.services.discovery_names import (
    Why,
    match_advice,
    named_accounts,
    offline_discovery,
)
from hirondelle.migration.services.importing import import_archive
from hirondelle.migration.services.matching import count_matches
from hirondelle.migration.services.names import ids_for_usernames, names_for
from tests.migration.conftest import link
from tests.support.x_archive import TweetSpec, add_names, sample_spec, snowflake, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_network(monkeypatch):
    """Fails the test at the first attempt to open a connection anywhere."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"a network request was made to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a))
    return attempts


def _named_spec(seed=11, **kw):
    spec = sample_spec(seed, n_posts=30, n_following=40, n_followers=30, n_blocks=4, n_mutes=3)
    return spec, add_names(spec, seed, **kw)


def _graph(spec):
    return {*spec.following, *spec.followers, *spec.blocks, *spec.mutes}


def _expected_counts(spec, truth):
    return {
        key: {"total": len(set(ids)), "named": truth.named(ids), "claims": truth.claims(ids)}
        for key, ids in (
            ("following", spec.following),
            ("followers", spec.followers),
            ("blocks", spec.blocks),
            ("mutes", spec.mutes),
        )
    }


def test_import_keeps_the_graphs_names_exactly_on_the_migration(tmp_path, person):
    spec, truth = _named_spec()
    result = import_archive(write_archive(tmp_path, spec), owner=person)
    rows = {
        str(x_id_from_db(r.x_account_id)): r
        for r in ArchiveName.objects.filter(migration=result.migration)
    }
    graph = _graph(spec)
    expected = {x: n for x, n in truth.names.items() if x in graph}
    assert set(rows) == set(expected)
    for x, want in expected.items():
        row = rows[x]
        assert (row.username, row.display_name, row.post_id, row.source) == (
            want.username,
            want.display_name,
            want.post_id,
            want.source,
        )
    assert result.counts["named"] == {
        k: v["named"] for k, v in _expected_counts(spec, truth).items()
    }
    # Names never reach the shared directory rows.
    assert not XAccount.objects.exclude(username="").exists()


def test_a_newer_archive_replaces_the_names(tmp_path, person):
    spec, _ = _named_spec()
    first = import_archive(write_archive(tmp_path / "a", spec), owner=person).migration
    dropped = spec.following[0]
    newer = replace(
        sample_spec(12, n_posts=5),
        account=spec.account,
        following=[x for x in spec.following if x != dropped],
        followers=spec.followers,
        blocks=spec.blocks,
        mutes=spec.mutes,
        generated_at=spec.generated_at + timedelta(days=30),
    )
    newer.tweets = []
    truth = add_names(newer, 12)
    second = import_archive(write_archive(tmp_path / "b", newer), owner=person).migration
    assert second.pk == first.pk
    rows = {
        str(x_id_from_db(x)): u
        for x, u in ArchiveName.objects.filter(migration=second).values_list(
            "x_account_id", "username"
        )
    }
    assert rows == {x: n.username for x, n in truth.names.items() if x in _graph(newer)}
    assert dropped not in rows


def test_offline_discovery_counts_and_lists_claims_without_a_request(tmp_path, person, no_network):
    spec, truth = _named_spec()
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    # One claimed person is already in the directory on their network: not "found by claims".
    claimed = sorted(x for x in spec.following if x in truth.names and truth.names[x].claim)
    known = claimed[0]
    link(known, truth.names[known].claim[0], "roster")
    result = offline_discovery(migration).as_dict()
    assert result["graph"] == _expected_counts(spec, truth)
    graph = _graph(spec)
    expected = sorted(
        (x, n.username, n.claim[0], n.claim[1], n.display_name)
        for x, n in truth.names.items()
        if x in graph and n.claim and x != known
    )
    got = sorted(
        (c["x_id"], c["x_username"], c["network"], c["address"], c["display_name"])
        for c in result["found_by_claims"]
    )
    assert got == expected
    assert len(got) >= 5
    assert no_network == []


def test_discover_offline_json_from_the_command_line(tmp_path, no_network):
    spec, truth = _named_spec(seed=13)
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(write_archive(tmp_path, spec))])
    assert imported.exit_code == 0, imported.output
    named = truth.named(spec.following)
    assert f"Your posts name {named} of the {len(set(spec.following))} accounts" in imported.output
    out = runner.invoke(main, ["discover", "--offline", "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["graph"] == _expected_counts(spec, truth)
    assert {c["x_username"] for c in data["found_by_claims"]} == {
        n.username for x, n in truth.names.items() if n.claim and x in _graph(spec)
    }
    text = runner.invoke(main, ["discover", "--offline"], catch_exceptions=False).output
    assert "named in your posts" in text
    assert f"{truth.named(spec.following):,}" in text
    assert no_network == []


def test_a_forged_archive_does_not_change_what_the_first_person_sees(tmp_path, django_user_model):
    alice = django_user_model.objects.create(username="alice")
    mallory = django_user_model.objects.create(username="mallory")
    spec, truth = _named_spec(seed=14)
    mine = import_archive(write_archive(tmp_path / "a", spec), owner=alice).migration
    graph_ids = [int(x) for x in spec.following]
    before = names_for(mine, graph_ids)
    someone = next(x for x in spec.following if x in truth.names)
    username = truth.names[someone].username
    assert before[int(someone)].username == username
    assert ids_for_usernames(mine, [username]) == {username.lower(): int(someone)}

    # Mallory's archive claims Alice's X account, renames everyone Alice follows,
    # and gives Alice's friend's username to another id.
    forged, _ = _named_spec(seed=15)
    forged = replace(
        forged,
        account=replace(spec.account, username="mallory_x", display_name="Not Alice"),
        following=spec.following,
    )
    forged.tweets = []
    liar = add_names(forged, 15, following=1.0)
    decoy = str(10**18 + 7)
    forged.following = [*forged.following, decoy]
    forged.tweets.append(
        TweetSpec(
            id=snowflake(spec.generated_at, random.Random(1)),
            created_at=spec.generated_at,
            text=f"hi @{username}",
            mentions=((username, decoy),),
            mention_names=((username, "Impostor 🦋 evil.bsky.social"),),
        )
    )
    theirs = import_archive(write_archive(tmp_path / "b", forged), owner=mallory).migration
    assert theirs.pk != mine.pk
    assert theirs.x_account_id == mine.x_account_id  # the same X id, claimed twice
    assert liar.named(spec.following) == len(set(spec.following))

    mine.refresh_from_db()
    assert (mine.x_username, mine.x_display_name) == (
        spec.account.username,
        spec.account.display_name,
    )
    assert names_for(mine, graph_ids) == before
    assert ids_for_usernames(mine, [username]) == {username.lower(): int(someone)}
    assert offline_discovery(mine).as_dict()["graph"] == _expected_counts(spec, truth)
    # The directory's rows carry nobody's archive names.
    assert not XAccount.objects.exclude(username="").exists()
    # Mallory sees what Mallory's archive says, and only Mallory.
    assert ids_for_usernames(theirs, [username]) == {username.lower(): int(decoy)}


def test_a_directory_name_is_shown_before_the_archives(tmp_path, person):
    spec, truth = _named_spec(seed=16)
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    x = next(x for x in spec.following if x in truth.names)
    XAccount.objects.update_or_create(id=x_id_to_db(x), defaults={"username": "proven_name"})
    name = names_for(migration, [int(x)])[int(x)]
    assert (name.username, name.from_archive) == ("proven_name", False)
    assert name.display_name == truth.names[x].display_name  # the archive's, kept


# --------------------------------------------------------------------------- advice


def test_advice_says_no_directory_then_nobody_yet_then_few(tmp_path, person):
    spec, truth = _named_spec(seed=17)
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration

    def advice():
        return match_advice(migration, count_matches(migration))

    first = advice()
    assert first.why is Why.NO_DIRECTORY
    assert (first.found, first.following) == (0, len(set(spec.following)))
    assert first.named_following == truth.named(spec.following)
    assert first.claims_following == truth.claims(spec.following)
    link("999999999", "mastodon", "roster")  # someone, not of this network
    assert advice().why is Why.NOBODY_YET
    link(spec.following[0], "mastodon", "roster")
    assert advice().why is Why.FEW
    for x in spec.following[1:4]:
        link(x, "bluesky", "roster")
    assert advice().why is None  # 4 of 40 found: a tenth


def test_match_never_prints_bare_zeros(tmp_path):
    spec, truth = _named_spec(seed=18)
    runner = CliRunner()
    runner.invoke(main, ["import", str(write_archive(tmp_path, spec))], catch_exceptions=False)
    out = runner.invoke(main, ["match"], catch_exceptions=False).output
    assert "no directory is imported yet" in out
    assert "hirondelle discover --search" in out
    assert "hirondelle directory import" in out
    assert f"{truth.named(spec.following):,} accounts you follow" in out
    link("999999999", "mastodon", "roster")
    assert "nobody of your" in runner.invoke(main, ["match"], catch_exceptions=False).output


def test_named_accounts_are_the_starting_list_of_a_search(tmp_path, person):
    spec, truth = _named_spec(seed=19)
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    found = next(x for x in spec.following if x in truth.names)
    link(found, "bluesky", "roster")
    accounts = {str(a.x_id): a for a in named_accounts(migration)}
    graph = _graph(spec)
    assert set(accounts) == {x for x in truth.names if x in graph}
    assert accounts[found].matched == {"bluesky"}
    assert all(not a.matched for x, a in accounts.items() if x != found)
    for x, a in accounts.items():
        want = truth.names[x]
        assert (a.username, a.display_name) == (want.username, want.display_name)
        assert [(c.network.value, c.address) for c in a.claims] == (
            [want.claim] if want.claim else []
        )
        assert set(a.directions) == {
            key
            for key, ids in (
                ("following", spec.following),
                ("followers", spec.followers),
                ("blocks", spec.blocks),
                ("mutes", spec.mutes),
            )
            if x in ids
        }
