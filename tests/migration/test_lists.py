"""Rebuilding the X lists a person created: the service, and the runner carrying
it out against real servers on 127.0.0.1.

Mastodon side: `mastodon-mock`, a stateful imitation of Mastodon's REST API
(not Mastodon itself: it does not enforce "you must follow an account to add
it to a list", so that rule is checked on our plan items). Bluesky side: the
reference atproto stack (PLC + PDS + AppView); lists and their members are
read back as `app.bsky.graph.list` / `listitem` records from the PDS.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, ImportedList, ListRebuild, PlanItem
from hirondelle.migration.services import lists as service
from hirondelle.migration.services.importing import import_archive
from hirondelle.migration.services.running import advance, run_until_idle
from tests.support.mastodon_peer import TOKEN
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The service's messages are translated; these tests read the English ones."""
    with translation.override("en"):
        yield


CREATED = ["https://twitter.com/i/lists/1111111111", "https://twitter.com/i/lists/2222222222"]
MEMBER = ["https://twitter.com/i/lists/3333333333"]
SUBSCRIBED = ["https://twitter.com/i/lists/4444444444"]


@pytest.fixture
def spec():
    spec = sample_spec(seed=11, n_posts=3, n_following=8, n_followers=4)
    spec.lists_created = list(CREATED)
    spec.lists_member = list(MEMBER)
    spec.lists_subscribed = list(SUBSCRIBED)
    return spec


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create(username="alice")


@pytest.fixture
def migration(person, spec, tmp_path):
    return import_archive(write_archive(tmp_path, spec), owner=person).migration


def link(x_id, network, handle, uri="", *, evidence="roster", username=""):
    assert_link(
        x_id, network, handle, uri, evidence=evidence, asserted_by="test", x_username=username
    )
    set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)


def created_list(migration, n=0) -> ImportedList:
    return service.find_list(migration, CREATED[n])


def list_items(rebuild):
    return PlanItem.objects.filter(kind="list_add", payload__rebuild=rebuild.pk)


# --- the service ---------------------------------------------------------------


def test_overview_sorts_lists_by_kind_and_prefills_names(migration):
    overview = service.lists_overview(migration)
    assert [r.url for r in overview.created] == CREATED
    assert [r.url for r in overview.member] == MEMBER
    assert [r.url for r in overview.subscribed] == SUBSCRIBED
    assert service.default_name(overview.created[0]) == "X list 1111111111"


def test_only_created_lists_can_be_found(migration):
    assert created_list(migration, 1).url == CREATED[1]
    assert service.find_list(migration, "2222222222").url == CREATED[1]
    with pytest.raises(service.ListsError, match="belong to someone else"):
        service.find_list(migration, MEMBER[0])
    with pytest.raises(service.ListsError, match="not an X list"):
        service.find_list(migration, "https://x.com/alice")


def test_parse_handles_accepts_handles_addresses_and_csv():
    text = (
        "handle,name\n@Alice,Alice A\nbob\nhttps://x.com/carol\n"
        "https://twitter.com/Dave/status/1\n# a comment\n\nnot a handle!\nhttps://x.com/i/lists/1\n"
        "@alice\n"
    )
    handles, bad = service.parse_handles(text)
    assert handles == ["Alice", "bob", "carol", "Dave"]
    assert [b.line for b in bad] == ["not a handle!", "https://x.com/i/lists/1"]
    assert {b.reason for b in bad} == {"invalid"}


def test_candidates_are_the_usable_matches_on_that_network(migration, spec, person):
    account = _mastodon_account(person, "https://m.example")
    f = spec.following
    link(f[0], "mastodon", "u0@m.example", username="zoe")
    link(f[1], "mastodon", "u1@m.example", evidence="self", username="weak")  # needs review
    link(f[2], "bluesky", "u2.test", "did:plc:u2aaaaaaaaaaaaaaaaaaaaaa", username="elsewhere")
    link(spec.followers[0], "mastodon", "f0@m.example", username="fan")
    found = service.candidates(migration, account)
    assert [(c.x_username, c.handle) for c in found] == [
        ("fan", "f0@m.example"),
        ("zoe", "u0@m.example"),
    ]
    assert found[0].directions == ("followers",)
    with_review = service.candidates(migration, account, include_review=True)
    assert {c.x_username: c.usable for c in with_review}["weak"] is False


def test_pasted_handles_are_resolved_or_explained(migration, spec, person):
    account = _mastodon_account(person, "https://m.example")
    f = spec.following
    link(f[0], "mastodon", "u0@m.example", username="Zoe")
    link(f[1], "mastodon", "u1@m.example", evidence="self", username="weak")
    link(f[2], "bluesky", "u2.test", "did:plc:u2aaaaaaaaaaaaaaaaaaaaaa", username="elsewhere")
    link("99", "mastodon", "stranger@m.example", username="stranger")  # not in the graph
    text = "@zoe\n@weak\n@elsewhere\n@stranger\n@nobody\nbad handle\n"
    out = service.resolve_handles(migration, account, text)
    assert [c.handle for c in out.found] == ["u0@m.example"]
    reasons = {n.line: n.reason for n in out.not_found}
    assert reasons == {
        "bad handle": "invalid",
        "@weak": "needs_review",
        "@elsewhere": "not_on_network",
        "@stranger": "not_in_graph",
        "@nobody": "unknown",
    }


def test_saving_twice_plans_each_member_once_and_follows_first_on_mastodon(migration, spec, person):
    account = _mastodon_account(person, "https://m.example")
    for i in range(3):
        link(spec.following[i], "mastodon", f"u{i}@m.example", username=f"u{i}")
    members = [int(x) for x in spec.following[:3]]
    first = service.save_rebuild(created_list(migration), account, name="Friends", members=members)
    assert (first.added, first.follows_planned) == (3, 3)
    again = service.save_rebuild(created_list(migration), account, name="Friends", members=members)
    assert (again.added, again.follows_planned, again.removed) == (0, 0, 0)
    assert ListRebuild.objects.count() == 1
    items = list_items(first.rebuild)
    assert items.count() == 3
    assert set(items.values_list("list_name", flat=True)) == {"Friends"}
    assert PlanItem.objects.filter(kind="follow").count() == 3

    fewer = service.save_rebuild(
        created_list(migration), account, name="Close friends", members=members[:1]
    )
    assert fewer.removed == 2
    assert fewer.rebuild.name == "Close friends"  # not created yet: renamed
    assert set(items.filter(state="skipped").values_list("x_id", flat=True)) == {
        str(x) for x in members[1:]
    }
    back = service.save_rebuild(created_list(migration), account, name="Friends", members=members)
    assert (back.added, back.revived) == (0, 2)
    assert items.filter(state="pending").count() == 3


def test_a_rebuild_refuses_what_was_not_found_and_lists_not_created(migration, spec, person):
    account = _mastodon_account(person, "https://m.example")
    link(spec.following[0], "mastodon", "u0@m.example")
    with pytest.raises(service.ListsError, match="not among the people found"):
        service.save_rebuild(
            created_list(migration), account, name="x", members=[int(spec.following[1])]
        )
    member_list = ImportedList.objects.get(url=MEMBER[0])
    with pytest.raises(service.ListsError, match="Only the lists you created"):
        service.save_rebuild(member_list, account, name="x", members=[])
    with pytest.raises(service.ListsError, match="64 characters"):
        service.save_rebuild(created_list(migration), account, name="n" * 65, members=[])
    with pytest.raises(service.ListsError, match="name"):
        service.save_rebuild(created_list(migration), account, name="   ", members=[])
    service.save_rebuild(created_list(migration, 1), account, name="Same", members=[])
    with pytest.raises(service.ListsError, match="already called 'Same'"):
        service.save_rebuild(created_list(migration), account, name="Same", members=[])
    assert ListRebuild.objects.count() == 1
    assert not PlanItem.objects.exists()


def test_a_member_whose_list_is_gone_is_skipped_not_crashing(migration, spec, person):
    account = _mastodon_account(person, "https://m.example")
    link(spec.following[0], "mastodon", "u0@m.example", "https://m.example/users/u0")
    out = service.save_rebuild(
        created_list(migration), account, name="Gone", members=[int(spec.following[0])]
    )
    PlanItem.objects.filter(kind="follow").update(state="done")
    out.rebuild.delete()

    class NoNetwork:
        network = "mastodon"

    class Out:
        failed = retried = 0

    items = list(PlanItem.objects.filter(kind="list_add"))
    assert service.prepare_list_adds(NoNetwork(), account, items, Out(), timezone.now()) == []
    item = PlanItem.objects.get(kind="list_add")
    assert item.state == "skipped"
    assert "deleted" in item.last_error


def _mastodon_account(person, server, token="t"):
    return ConnectedAccount.objects.create(
        user=person,
        network="mastodon",
        server=server,
        handle="alice@mock.local",
        remote_id=f"{server}/users/alice",
        credentials={"access_token": token},
    )


# --- Mastodon (mastodon-mock) ----------------------------------------------------

MOCK_PEOPLE = ["bob@mock.local", "dave@remote.example", "erin@other.example"]


@pytest.fixture
def on_mastodon(mastodon_peer, migration, spec, person):
    account = _mastodon_account(person, mastodon_peer.base_url, TOKEN)
    for x_id, handle in zip(spec.following, MOCK_PEOPLE, strict=False):
        link(x_id, "mastodon", handle, username=handle.split("@")[0])
    return account


def mock_lists(peer) -> list[dict]:
    return peer.get("/api/v1/lists")


def mock_members(peer, list_id) -> list[str]:
    return sorted(a["acct"] for a in peer.get(f"/api/v1/lists/{list_id}/accounts", limit=0))


def run_all(account):
    run_until_idle([account], sleep=lambda s: None)


def test_mastodon_list_built_once_with_each_member_once(on_mastodon, mastodon_peer, migration):
    out = service.resolve_handles(migration, on_mastodon, "@bob\n@dave\n@erin\n")
    assert len(out.found) == 3, out.not_found
    members = [c.x_id for c in out.found]
    service.save_rebuild(created_list(migration), on_mastodon, name="Bird people", members=members)
    first = advance(on_mastodon)
    assert first.failed == 0, list(PlanItem.objects.values_list("kind", "last_error"))
    # follows first (Mastodon lists only people one follows), then the list entries
    follows = PlanItem.objects.filter(kind="follow")
    entries = PlanItem.objects.filter(kind="list_add")
    assert set(follows.values_list("state", flat=True)) == {"done"}
    assert set(entries.values_list("state", flat=True)) == {"done"}
    assert max(follows.values_list("done_at", flat=True)) <= min(
        entries.values_list("done_at", flat=True)
    )
    # run again, and save again: nothing new on the server
    service.save_rebuild(created_list(migration), on_mastodon, name="Bird people", members=members)
    run_all(on_mastodon)
    titles = [lst["title"] for lst in mock_lists(mastodon_peer)]
    assert titles.count("Bird people") == 1
    rebuild = ListRebuild.objects.get()
    assert rebuild.remote_list_id
    assert mock_members(mastodon_peer, rebuild.remote_list_id) == [
        "bob",
        "dave@remote.example",
        "erin@other.example",
    ]


def test_mastodon_crash_after_creating_the_list_makes_no_second_list(
    on_mastodon, mastodon_peer, migration, spec
):
    members = [int(x) for x in spec.following[:2]]
    service.save_rebuild(created_list(migration), on_mastodon, name="Crashy", members=members)
    run_all(on_mastodon)
    rebuild = ListRebuild.objects.get()
    # A worker died after creating the list and adding members, before
    # recording either: the remote id is forgotten, the items left in flight.
    rebuild.remote_list_id = ""
    rebuild.save()
    expired = timezone.now() - timedelta(minutes=1)
    list_items(rebuild).update(
        state="in_flight", locked_until=expired, payload={"rebuild": rebuild.pk}
    )
    run_all(on_mastodon)
    rebuild.refresh_from_db()
    assert [lst["title"] for lst in mock_lists(mastodon_peer)].count("Crashy") == 1
    assert set(list_items(rebuild).values_list("state", flat=True)) == {"done"}
    assert mock_members(mastodon_peer, rebuild.remote_list_id) == ["bob", "dave@remote.example"]


def test_mastodon_member_waits_for_its_follow(on_mastodon, mastodon_peer, migration, spec):
    members = [int(spec.following[0])]
    service.save_rebuild(created_list(migration), on_mastodon, name="Patience", members=members)
    later = timezone.now() + timedelta(hours=1)
    PlanItem.objects.filter(kind="follow").update(next_attempt_at=later)  # e.g. budget spent
    result = advance(on_mastodon)
    entry = PlanItem.objects.get(kind="list_add")
    assert entry.state == "pending"
    assert entry.next_attempt_at > later
    assert result.next_wake is not None
    assert not ListRebuild.objects.get().remote_list_id  # nothing created for nobody
    assert "Patience" not in [lst["title"] for lst in mock_lists(mastodon_peer)]
    # the follow fails for good: the member fails with that reason
    PlanItem.objects.filter(kind="follow").update(state="failed", last_error="gone")
    PlanItem.objects.filter(kind="list_add").update(next_attempt_at=timezone.now())
    advance(on_mastodon)
    entry.refresh_from_db()
    assert entry.state == "failed"
    assert "only people you follow" in entry.last_error
    assert "gone" in entry.last_error


def test_removing_a_member_before_it_is_added_skips_it(on_mastodon, mastodon_peer, migration, spec):
    members = [int(x) for x in spec.following[:3]]
    service.save_rebuild(created_list(migration), on_mastodon, name="Fewer", members=members)
    service.save_rebuild(created_list(migration), on_mastodon, name="Fewer", members=members[:1])
    run_all(on_mastodon)
    rebuild = ListRebuild.objects.get()
    assert mock_members(mastodon_peer, rebuild.remote_list_id) == ["bob"]
    assert list_items(rebuild).filter(state="skipped").count() == 2
    # dropped after being added: kept on the network, and said so
    out = service.save_rebuild(created_list(migration), on_mastodon, name="Fewer", members=[])
    assert out.kept_on_network == 1


# --- Bluesky (the local atproto stack) -----------------------------------------


@pytest.fixture
def on_bluesky(atproto_peer, migration, spec, person):
    me = atproto_peer.create_account()
    account = ConnectedAccount.objects.create(
        user=person,
        network="bluesky",
        server=atproto_peer.pds,
        handle=me.handle,
        remote_id=me.did,
        credentials={"app_password": me.app_password},
    )
    people = [atproto_peer.create_account() for _ in range(3)]
    for x_id, who in zip(spec.following, people, strict=False):
        link(x_id, "bluesky", who.handle, who.did, username=who.handle.split(".")[0])
    return account, people


def test_bluesky_list_and_members_written_once(on_bluesky, atproto_peer, migration, spec):
    account, people = on_bluesky
    members = [int(x) for x in spec.following[:3]]
    service.save_rebuild(created_list(migration), account, name="Oiseaux", members=members)
    run_all(account)
    service.save_rebuild(created_list(migration), account, name="Oiseaux", members=members)
    run_all(account)
    # interrupted: the list's URI forgotten and the entries left in flight
    rebuild = ListRebuild.objects.get()
    uri = rebuild.remote_list_id
    ListRebuild.objects.filter(pk=rebuild.pk).update(remote_list_id="")
    expired = timezone.now() - timedelta(minutes=1)
    list_items(rebuild).update(
        state="in_flight", locked_until=expired, payload={"rebuild": rebuild.pk}
    )
    run_all(account)

    lists = atproto_peer.records(account.remote_id, "app.bsky.graph.list")
    assert [(r["uri"], r["value"]["name"]) for r in lists] == [(uri, "Oiseaux")]
    assert lists[0]["value"]["purpose"] == "app.bsky.graph.defs#curatelist"
    items = atproto_peer.records(account.remote_id, "app.bsky.graph.listitem")
    assert sorted(r["value"]["subject"] for r in items) == sorted(p.did for p in people)
    assert {r["value"]["list"] for r in items} == {uri}
    assert not PlanItem.objects.filter(kind="follow").exists()  # Bluesky lists need no follow
    assert set(list_items(rebuild).values_list("state", flat=True)) == {"done"}


def test_two_lists_on_bluesky_stay_apart(on_bluesky, atproto_peer, migration, spec):
    account, people = on_bluesky
    f = [int(x) for x in spec.following[:3]]
    service.save_rebuild(created_list(migration, 0), account, name="One", members=f[:2])
    service.save_rebuild(created_list(migration, 1), account, name="Two", members=f[1:])
    run_all(account)
    lists = {
        r["uri"]: r["value"]["name"]
        for r in atproto_peer.records(account.remote_id, "app.bsky.graph.list")
    }
    assert sorted(lists.values()) == ["One", "Two"]
    by_list: dict[str, set[str]] = {}
    for r in atproto_peer.records(account.remote_id, "app.bsky.graph.listitem"):
        by_list.setdefault(lists[r["value"]["list"]], set()).add(r["value"]["subject"])
    assert by_list == {"One": {people[0].did, people[1].did}, "Two": {people[1].did, people[2].did}}
