"""Discovery against real servers: the reference atproto stack (PLC + PDS +
AppView on 127.0.0.1) for Bluesky, and mastodon-mock (a MOCK of Mastodon's
client API, with no federation) for the fediverse side.

The population: true owners (a claim in their bio, a claim in their X display
name, both, or nothing but the same handle), impostors claiming the same X
account from new, empty accounts (one of them the only claimant), strangers
with the same display name, and a Bridgy Fed mirror. The AppView's search is
run both ways: as the reference AppView answers alone (handle substrings) and
through the stand-in search service that start.mjs gives it (words of handle,
display name and bio, like production Bluesky) — a stand-in, not Bluesky's.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, field

import pytest
import requests
from django.utils import timezone
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    RateLimitConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)
from mastodon_mock.testing import MockServer

from hirondelle.identity.models import XAccount
from hirondelle.migration.models import (
    ArchiveName,
    Direction,
    DiscoveryCandidate,
    DiscoveryRun,
    Edge,
    Migration,
    PlanItem,
)
from hirondelle.migration.services import discovery
from hirondelle.networks.mastodon import MastodonAdapter
from hirondelle.networks.search import BlueskyPublic, MastodonSearch

pytestmark = pytest.mark.django_db

OLD = "2019-03-01T00:00:00.000Z"


@dataclass
class Person:
    """One X account of the graph, and what the test knows about it."""

    x_id: int
    username: str
    display_name: str
    owner: str = ""  # the true owner's handle on Bluesky, if any
    owner_mastodon: str = ""  # …on the fediverse
    found_by_handle: bool = False  # findable when search matches handles only
    impostors: list[str] = field(default_factory=list)


@dataclass
class Population:
    people: list[Person]
    impostors: set[str]
    strangers: set[str]
    bridge: str  # the Bluesky handle mirrored on the fediverse


def _x(n: int) -> int:
    return 9_000_000 + n


@pytest.fixture(scope="module")
def population(atproto_peer) -> Population:
    """Build the Bluesky side once per module (the stack is shared)."""
    s = secrets.token_hex(2)
    peer = atproto_peer
    people: list[Person] = []
    impostors: set[str] = set()
    strangers: set[str] = set()

    def account(handle: str, *, name: str = "", bio: str = "", old: bool, posts: int = 0):
        made = peer.create_account(handle)
        peer.set_profile(made, display_name=name, description=bio, created_at=OLD if old else None)
        if posts:
            peer.post(made, posts)
        return made

    # 1. claim in the bio, an unrelated handle, a real history
    owner = account(
        f"theo-b{s}.test", name="Theo B", bio=f"Was x.com/tbio{s} until 2024", old=True, posts=3
    )
    people.append(Person(_x(1), f"tbio{s}", "Theo Bio", owner=owner.handle))

    # 2. the X display name names the account, which names the X account back
    owner = account(f"eve{s}.test", name="Eve", bio=f"ex twitter.com/tev{s}", old=True, posts=2)
    people.append(
        Person(_x(2), f"tev{s}", f"Eve 🦋 eve{s}.test", owner=owner.handle, found_by_handle=True)
    )

    # 3. claim only in the X display name (the account says nothing)
    owner = account(f"dana{s}.test", name="Dana", bio="hello", old=True, posts=2)
    people.append(
        Person(_x(3), f"tdn{s}", f"Dana 🦋 dana{s}.test", owner=owner.handle, found_by_handle=True)
    )

    # 4. nothing but the same handle
    owner = account(f"sam{s}.test", name="Sam", old=True, posts=5)
    people.append(Person(_x(4), f"sam{s}", "Sam", owner=owner.handle, found_by_handle=True))

    # 5. a true owner with a claim, and an impostor claiming the same X account
    owner = account(f"kim{s}.test", name="Kim", bio=f"x.com/kim{s}", old=True, posts=4)
    fake = account(f"kim{s}-real.test", name="Kim", bio=f"The real x.com/kim{s}", old=False)
    impostors.add(fake.handle)
    people.append(
        Person(
            _x(5),
            f"kim{s}",
            "Kim",
            owner=owner.handle,
            found_by_handle=True,
            impostors=[fake.handle],
        )
    )

    # 6. an impostor, the only claimant: the real person is not on Bluesky
    fake = account(f"vic-official{s}.test", name="Vic", bio=f"x.com/vic{s} official", old=False)
    impostors.add(fake.handle)
    people.append(Person(_x(6), f"vic{s}", "Vic", impostors=[fake.handle]))

    # 7. bridged: a Bluesky account, mirrored on the fediverse by Bridgy Fed
    bridge = account(f"brid{s}.test", name="Bree", bio=f"x.com/brid{s}", old=True, posts=2)
    people.append(Person(_x(7), f"brid{s}", "Bree", owner=bridge.handle, found_by_handle=True))

    # 8. on the fediverse only, with a verified field linking the X account
    people.append(Person(_x(8), f"fox{s}", "Fox", owner_mastodon=f"fox{s}@mastodon.example"))

    # 9. nobody anywhere
    people.append(Person(_x(9), f"ghost{s}", "Ghost"))

    # 10. not on Bluesky, but a stranger there has the same display name
    name = f"Uma Lune{s}"
    strangers.add(account(f"lune-fan{s}.test", name=name, old=True, posts=1).handle)
    people.append(Person(_x(10), f"uma{s}", name))
    peer.sync()
    return Population(people, impostors, strangers, bridge.handle)


@pytest.fixture(scope="module")
def fediverse(population, tmp_path_factory):
    """mastodon-mock (a mock) seeded with fediverse accounts; verified fields are
    written into its database, as Mastodon would after checking a rel=me link."""
    fox = next(p for p in population.people if p.owner_mastodon)
    brid = next(p for p in population.people if p.owner == population.bridge)
    path = tmp_path_factory.mktemp("mastodon") / "mock.db"
    fox_user = fox.owner_mastodon.split("@")[0]
    seed = SeedConfig(
        accounts=[
            SeedAccount(username="me", display_name="Me", access_token="me_token"),
            SeedAccount(username=fox_user, domain="mastodon.example", display_name="Fox"),
            # Bridgy Fed's mirror of the Bluesky account (named after its handle)
            SeedAccount(
                username=population.bridge,
                domain="bsky.brid.gy",
                display_name="Bree",
                note=f"x.com/{brid.username}",
            ),
        ],
    )
    config = MastodonMockConfig(
        database=DatabaseConfig(path=str(path)),
        seed=seed,
        streaming=StreamingConfig(enabled=False),
        ratelimit=RateLimitConfig(enabled=False),
    )
    server = MockServer(config=config).start()
    field = [
        {
            "name": "X",
            "value": f'<a href="https://x.com/{fox.username}" rel="me">x.com/{fox.username}</a>',
            "verified_at": "2024-05-01T00:00:00.000Z",
        }
    ]
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE accounts SET fields = ?, created_at = ? WHERE username = ?",
            (json.dumps(field), "2018-01-01 00:00:00", fox_user),
        )
    yield server
    server.stop()


@pytest.fixture
def graph(django_user_model, population):
    """A migration whose following list is the population, named as its archive named them."""
    return _graph_for(django_user_model.objects.create(username="me"), population)


def _graph_for(person, population):
    me = XAccount.objects.create(id=1234, username="me")
    migration = Migration.objects.create(owner=person, x_account=me)
    Edge.objects.bulk_create(
        Edge(migration=migration, direction=Direction.FOLLOWING, x_account_id=p.x_id, generation=1)
        for p in population.people
    )
    ArchiveName.objects.bulk_create(
        ArchiveName(
            migration=migration,
            x_account_id=p.x_id,
            username=p.username,
            display_name=p.display_name,
            seen_at=timezone.now(),
            post_id=str(p.x_id * 10),
            source="mention",
        )
        for p in population.people
    )
    return migration


def _run(migration, appview: str, mastodon: MastodonSearch | None = None):
    discovery.start_discovery(migration, consent=True)
    with BlueskyPublic(appview) as bluesky:
        run = discovery.run_discovery(migration, bluesky=bluesky, mastodon=mastodon)
    assert run.state == DiscoveryRun.State.DONE, run.error
    return run, {
        (c.x_account_id, c.network, c.handle): c for c in discovery.candidates_for(migration)
    }


@pytest.mark.parametrize("mode", ["words", "handles"])
def test_owners_found_and_no_impostor_preselected(atproto_peer, population, graph, mode):
    with atproto_peer.search_mode(mode):
        run, found = _run(graph, atproto_peer.appview)
    handles = {(x, h) for x, _, h in found}
    for p in population.people:
        if p.owner and (mode == "words" or p.found_by_handle):
            assert (p.x_id, p.owner) in handles, f"{p.owner} not found for @{p.username} ({mode})"
    for (_x_id, _network, handle), c in found.items():
        if handle in population.impostors:
            assert not c.preselected, f"impostor {handle} preselected ({mode})"
            assert c.evidence == "profile_claim"
        if handle in population.strangers:
            assert c.evidence == "name_match"
            assert not c.preselected
    # no impostor ever appears outside its claimed X account
    assert all(
        c.evidence != "two_way" for (_, _, h), c in found.items() if h in population.impostors
    )
    dana = next(p for p in population.people if p.username.startswith("tdn"))
    assert found[dana.x_id, "bluesky", dana.owner].evidence == "profile_claim"
    assert found[dana.x_id, "bluesky", dana.owner].preselected  # X side's claim, real history
    eve = next(p for p in population.people if p.username.startswith("tev"))
    assert found[eve.x_id, "bluesky", eve.owner].evidence == "two_way"
    assert found[eve.x_id, "bluesky", eve.owner].preselected
    sam = next(p for p in population.people if p.username.startswith("sam"))
    assert found[sam.x_id, "bluesky", sam.owner].evidence == "name_match"
    assert not found[sam.x_id, "bluesky", sam.owner].preselected
    kim = next(p for p in population.people if p.username.startswith("kim"))
    # two claimants for one X account: both shown, neither ticked
    assert (kim.x_id, kim.impostors[0]) in handles
    assert not found[kim.x_id, "bluesky", kim.owner].preselected
    # the requests: each name searched once, profiles read in one batch
    people = len(population.people)
    assert run.requests["bluesky"] <= 2 * people + 1
    if mode == "words":
        theo = next(p for p in population.people if p.username.startswith("tbio"))
        c = found[theo.x_id, "bluesky", theo.owner]
        assert c.evidence == "profile_claim"
        assert c.preselected  # a lone claim from an account with a history
        claim = c.profile["claim"]
        assert c.profile["description"][claim["start"] : claim["end"]] == f"x.com/{theo.username}"
        uma = next(p for p in population.people if p.username.startswith("uma"))
        stranger = next(iter(population.strangers))
        assert found[uma.x_id, "bluesky", stranger].evidence == "name_match"
        vic = next(p for p in population.people if p.username.startswith("vic"))
        lone = found[vic.x_id, "bluesky", vic.impostors[0]]
        assert lone.evidence == "profile_claim"
        assert not lone.preselected


def test_fediverse_side_and_bridge(atproto_peer, population, graph, fediverse):
    adapter = MastodonAdapter(fediverse.base_url, "me_token")
    with atproto_peer.search_mode("words"):
        run, found = _run(graph, atproto_peer.appview, MastodonSearch(adapter))
    adapter.close()
    fox = next(p for p in population.people if p.owner_mastodon)
    c = found[fox.x_id, "mastodon", fox.owner_mastodon]
    assert c.evidence == "two_way"
    assert c.preselected
    assert c.account.startswith("http")
    brid = next(p for p in population.people if p.owner == population.bridge)
    mirror = found[brid.x_id, "mastodon", f"{population.bridge}@bsky.brid.gy"]
    native = found[brid.x_id, "bluesky", population.bridge]
    assert native.account.startswith("did:")
    assert mirror.evidence == native.evidence == "profile_claim"
    assert run.requests["mastodon"] >= len(population.people)


def test_killed_run_resumes_without_asking_twice(atproto_peer, population, graph):
    with atproto_peer.search_mode("words"):
        discovery.start_discovery(graph, consent=True)
        with BlueskyPublic(atproto_peer.appview) as first:
            run = discovery.run_discovery(graph, bluesky=first, batch=3, max_batches=1)
        assert run.searched == 3
        assert run.state == DiscoveryRun.State.RUNNING
        asked = sum(first.requests.values())
        with BlueskyPublic(atproto_peer.appview) as again:
            run = discovery.run_discovery(graph, bluesky=again, batch=3)
        assert run.state == DiscoveryRun.State.DONE
        assert run.searched == len(population.people)
        # the cache answered what the killed run had asked: nothing is asked twice
        total = asked + sum(again.requests.values())
        discovery.start_discovery(graph, consent=True)
        with BlueskyPublic(atproto_peer.appview) as fresh:
            discovery.run_discovery(graph, bluesky=fresh)
        assert sum(fresh.requests.values()) == 0  # all from the week's cache
    assert total == run.requests["bluesky"]


def test_no_search_without_consent(graph):
    with pytest.raises(PermissionError):
        discovery.start_discovery(graph, consent=False)
    with pytest.raises(PermissionError):
        discovery.run_discovery(graph)
    assert not DiscoveryCandidate.objects.exists()
    assert not PlanItem.objects.exists()


def test_cache_is_keyed_by_the_question_only(atproto_peer, graph):
    from hirondelle.identity.models import PublicFinding

    with atproto_peer.search_mode("words"):
        _run(graph, atproto_peer.appview)
    keys = list(PublicFinding.objects.values_list("key", flat=True))
    assert keys
    assert all(k.split(":", 1)[0] in ("bluesky", "mastodon") for k in keys)
    stored = json.dumps(list(PublicFinding.objects.values_list("answer", flat=True)))
    assert "me" not in {k.rsplit(":", 1)[-1] for k in keys}
    assert str(graph.owner.pk) not in keys
    assert graph.owner.username not in stored.split('"')


def test_only_ticked_candidates_are_followed(atproto_peer, population, graph):
    """Discovery, then the plan and a real run on the PDS: the preselected true
    owners are followed; no impostor and no name-only match ever is."""
    import time

    from hirondelle.migration.services import running
    from hirondelle.migration.services.accounts import connect_account
    from hirondelle.migration.services.planning import build_plan
    from hirondelle.networks.base import Network

    me = atproto_peer.create_account()
    with atproto_peer.search_mode("words"):
        _, found = _run(graph, atproto_peer.appview)
    sam = next(p for p in population.people if p.username.startswith("sam"))
    ticked_by_hand = found[sam.x_id, "bluesky", sam.owner]
    discovery.choose(graph, shown=[ticked_by_hand.pk], picked=[ticked_by_hand.pk])
    account = connect_account(
        graph.owner,
        Network.BLUESKY,
        atproto_peer.pds,
        {"identifier": me.handle, "app_password": me.app_password},
    )
    build_plan(graph, accounts=[account])
    running.run_until_idle([account], sleep=time.sleep)
    followed = {
        r["value"]["subject"] for r in atproto_peer.records(me.did, "app.bsky.graph.follow")
    }
    expected = {c.account for c in found.values() if c.network == "bluesky" and c.selected}
    expected.add(ticked_by_hand.account)
    assert followed == expected
    impostors = {c.account for c in found.values() if c.handle in population.impostors}
    assert impostors
    assert not followed & impostors
    assert len(followed) >= 4  # eve (two-way), dana and bree (lone claims with a history), sam


def test_discover_search_from_the_command_line(atproto_peer, population, monkeypatch):
    from click.testing import CliRunner

    from hirondelle.cli import main
    from hirondelle.cli._django import local_user
    from hirondelle.config import get_settings

    _graph_for(local_user(), population)
    monkeypatch.setenv("HIRONDELLE_BLUESKY_APPVIEW_URL", atproto_peer.appview)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        with atproto_peer.search_mode("words"):
            out = runner.invoke(main, ["discover", "--search", "--json"], catch_exceptions=False)
            assert out.exit_code == 0, out.output
            data = json.loads(out.output)
            text = runner.invoke(main, ["discover", "--search"], catch_exceptions=False).output
    finally:
        get_settings.cache_clear()
    people = len(population.people)
    assert data["graph"]["following"] == {"total": people, "named": people, "claims": 2}
    assert data["requests"]["bluesky"] > 0
    assert data["requests"]["mastodon"] == 0  # no Mastodon account connected: not searched
    rows = {(c["x_username"], c["handle"]): c for c in data["candidates"]}
    assert set(data["candidates"][0]) == {
        "x_id",
        "x_username",
        "network",
        "handle",
        "account",
        "evidence",
        "preselected",
    }
    eve = next(p for p in population.people if p.username.startswith("tev"))
    assert rows[eve.username, eve.owner]["evidence"] == "two_way"
    assert rows[eve.username, eve.owner]["preselected"] is True
    assert rows[eve.username, eve.owner]["x_id"] == str(eve.x_id)
    assert rows[eve.username, eve.owner]["account"].startswith("did:")
    for (_, handle), c in rows.items():
        if handle in population.impostors:
            assert c["preselected"] is False
    # the table and the summary; the second search asked nothing new (the week's cache)
    assert eve.owner in text
    flat = " ".join(text.split())  # rich wraps at the terminal's width
    assert "Requests: Bluesky 0, Mastodon 0" in flat
    assert "Connect your Mastodon account" in flat


def test_a_mastodon_server_that_refuses_us_does_not_stop_bluesky(
    atproto_peer, population, graph, fediverse
):
    adapter = MastodonAdapter(fediverse.base_url, "me_token")
    # the mock checks no token on searches: it is told to answer as Mastodon
    # does for a revoked one
    rule = {
        "match": {"path": "/api/v2/search"},
        "effect": {
            "type": "status",
            "status": 401,
            "body": {"error": "The access token was revoked"},
        },
    }
    faults = f"{fediverse.base_url}/api/v1/_mock/faults"
    requests.post(faults, json=rule, timeout=10).raise_for_status()
    try:
        with atproto_peer.search_mode("words"):
            run, found = _run(graph, atproto_peer.appview, MastodonSearch(adapter))
    finally:
        requests.delete(faults, timeout=10).raise_for_status()
        adapter.close()
    assert "connect the account again" in run.error
    assert not any(network == "mastodon" for _, network, _ in found)
    eve = next(p for p in population.people if p.username.startswith("tev"))
    assert found[eve.x_id, "bluesky", eve.owner].preselected
