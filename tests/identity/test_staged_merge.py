"""The set-based snapshot merge keeps the directory's rules, row for row.

Random snapshots (repeated links, ties, weaker and stronger evidence, rows
with and without URIs, two publishers disagreeing) are merged into a
directory that already holds links, a rejected link and a consent given
here. The expected directory is computed by `_Model` below, written from the
rules in `identity.services.directory`'s docstring (one assertion at a time),
not from either implementation; both the batch-by-batch `merge_links` and
`merge_links_staged` (through `import_snapshot` for the signed path) must
reach it. Runs on SQLite, and on PostgreSQL with `pytest --postgres`.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from hirondelle.identity.models import (
    Consent,
    Evidence,
    Link,
    LinkConflict,
    NetworkAccount,
    PublisherKey,
    XAccount,
)
from hirondelle.identity.services.directory import LinkRow, merge_links, set_consent
from hirondelle.identity.services.errors import SnapshotError, TamperedSnapshot
from hirondelle.identity.services.keys import generate_signing_key, trust_publisher
from hirondelle.identity.services.snapshots import import_snapshot
from hirondelle.identity.services.staged_merge import merge_links_staged
from hirondelle.identity.signals import directory_changed

pytestmark = pytest.mark.django_db

TIMES = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
EVIDENCE = ["x_oauth", "roster", "domain", "self", "name_match"]


def _account(net: str, i: int) -> tuple[str, str]:
    """Account i's handle and URI (one URI per handle, always)."""
    if net == "mastodon":
        return f"u{i}@m.example", f"https://m.example/users/u{i}"
    return f"u{i}.bsky.example", f"did:plc:u{i}"


def _random_rows(rng: random.Random, n: int, by: str) -> list[dict]:
    rows = []
    for _ in range(n):
        net = rng.choice(["mastodon", "bluesky"])
        handle, uri = _account(net, rng.randint(1, 8))
        rows.append(
            {
                "x_id": str(rng.randint(1, 6)),
                "x_username": rng.choice(["", "", "Ada", "bob"]),
                "network": net,
                "handle": handle,
                "id": rng.choice([uri, uri, ""]),
                "evidence": rng.choice(EVIDENCE),
                "asserted_at": rng.choice(TIMES),
                "asserted_by": rng.choice(["P", "Q"]) + by,
                "followable": rng.random() < 0.5,
                "follows_arrivals": rng.random() < 0.5,
            }
        )
    return rows


def _link_rows(rows: list[dict]) -> list[LinkRow]:
    return [
        LinkRow.make(
            r["x_id"],
            r["network"],
            r["handle"],
            r["id"],
            evidence=r["evidence"],
            asserted_by=r["asserted_by"],
            asserted_at=r["asserted_at"],
            x_username=r["x_username"],
            consent=(True, r["followable"], r["follows_arrivals"]),
        )
        for r in rows
    ]


class _Model:
    """The directory as the rules say it should be, one assertion at a time."""

    def __init__(self) -> None:
        self.usernames: dict[int, str] = {}
        self.uris: dict[tuple[str, str], str] = {}
        self.links: dict[tuple[int, str, str], dict] = {}
        self.consents: dict[int, tuple] = {}
        self.conflicts: dict[tuple[int, str], tuple] = {}

    def merge(self, rows: list[dict], publisher: str | None, source: str = "snapshot") -> None:
        xs = set()
        for r in rows:
            x, net, handle = int(r["x_id"]), r["network"], r["handle"]
            xs.add(x)
            self.usernames.setdefault(x, "")
            if r["x_username"]:
                self.usernames[x] = r["x_username"]
            if r["id"] or (net, handle) not in self.uris:
                self.uris[net, handle] = r["id"] or self.uris.get((net, handle), "")
            ev = Evidence(r["evidence"])
            proven = r["x_username"].lower() if ev in (Evidence.X_OAUTH, Evidence.ROSTER) else ""
            new = {
                "evidence": ev.value,
                "key": (ev.strength, r["asserted_at"]),
                "asserted_by": r["asserted_by"],
                "x_username": proven,
                "publisher": publisher,
            }
            held = self.links.get((x, net, handle))
            if held is None:
                self.links[x, net, handle] = {**new, "state": "current"}
            elif new["key"] > held["key"]:  # stronger, or as strong and newer
                held.update(new)
            consent = self.consents.get(x)
            if consent is None or consent[3] != "local":
                self.consents[x] = (True, r["followable"], r["follows_arrivals"], source)
        self.settle(xs)

    def settle(self, xs: set[int]) -> None:
        groups: dict[tuple[int, str], list] = {}
        for (x, net, handle), link in self.links.items():
            if x in xs and link["state"] != "rejected":
                groups.setdefault((x, net), []).append(((x, net, handle), link))
        for key, links in groups.items():
            top = max(link["key"][0] for _, link in links)
            leaders = [k for k, link in links if link["key"][0] == top]
            for _k, link in links:
                link["state"] = (
                    "superseded"
                    if link["key"][0] < top
                    else "current"
                    if len(leaders) == 1
                    else "contested"
                )
            if len(links) > 1:
                winner = leaders[0] if len(leaders) == 1 else None
                old = self.conflicts.get(key)
                if old is None or old[:2] != (winner, len(links)) or old[2]:
                    self.conflicts[key] = (winner, len(links), False)

    def state(self) -> dict:
        return {
            "x": self.usernames,
            "accounts": self.uris,
            "links": {
                k: (
                    v["evidence"],
                    v["state"],
                    v["asserted_by"],
                    v["key"][1],
                    v["x_username"],
                    v["publisher"],
                )
                for k, v in self.links.items()
            },
            "consents": self.consents,
            "conflicts": self.conflicts,
        }


def _db_state() -> dict:
    handle = {a.pk: (a.network, a.handle) for a in NetworkAccount.objects.all()}
    links = {}
    keys = {}
    for link in Link.objects.select_related("publisher"):
        net, h = handle[link.network_account_id]
        keys[link.pk] = (link.x_account_id, net, h)
        links[link.x_account_id, net, h] = (
            link.evidence,
            link.state,
            link.asserted_by,
            link.asserted_at,
            link.x_username,
            link.publisher.name if link.publisher else None,
        )
    return {
        "x": dict(XAccount.objects.values_list("id", "username")),
        "accounts": {(a.network, a.handle): a.uri for a in NetworkAccount.objects.all()},
        "links": links,
        "consents": {
            c.x_account_id: (c.findable, c.auto_followable, c.auto_follow_arrivals, c.source)
            for c in Consent.objects.all()
        },
        "conflicts": {
            (c.x_account_id, c.network): (
                keys.get(c.winner_id),
                c.contenders,
                c.resolved_at is not None,
            )
            for c in LinkConflict.objects.all()
        },
    }


def _wipe() -> None:
    for model in (LinkConflict, Link, Consent, NetworkAccount, XAccount):
        model.objects.all().delete()


def _seed(model: _Model) -> None:
    """An existing directory: links, a consent given here, a rejected link."""
    rows = [
        {
            "x_id": "1",
            "x_username": "",
            "network": "mastodon",
            "handle": _account("mastodon", 1)[0],
            "id": _account("mastodon", 1)[1],
            "evidence": "domain",
            "asserted_at": TIMES[1],
            "asserted_by": "here",
            "followable": False,
            "follows_arrivals": False,
        },
        {
            "x_id": "2",
            "x_username": "",
            "network": "bluesky",
            "handle": _account("bluesky", 2)[0],
            "id": "",
            "evidence": "x_oauth",
            "asserted_at": TIMES[0],
            "asserted_by": "here",
            "followable": False,
            "follows_arrivals": False,
        },
    ]
    merge_links(_link_rows(rows))
    model.merge(rows, None)
    set_consent(3, findable=False, auto_followable=False, auto_follow_arrivals=True)
    model.usernames.setdefault(3, "")
    model.consents[3] = (False, False, True, "local")
    # An administrator rejected x 2's link: asserting it again never revives it.
    Link.objects.filter(x_account_id=2).update(state="rejected")
    model.links[2, "bluesky", _account("bluesky", 2)[0]]["state"] = "rejected"


def _publishers() -> tuple[PublisherKey, PublisherKey]:
    return (
        PublisherKey.objects.get_or_create(name="P1", public_key="k1", trusted=True)[0],
        PublisherKey.objects.get_or_create(name="P2", public_key="k2", trusted=True)[0],
    )


@pytest.mark.parametrize("seed", range(12))
def test_staged_merge_reaches_what_the_rules_say(seed):
    rng = random.Random(seed)
    first, second = _random_rows(rng, 40, "1"), _random_rows(rng, 40, "2")
    p1, p2 = _publishers()
    results = {}
    for name, merge in (("batched", merge_links), ("staged", merge_links_staged)):
        _wipe()
        model = _Model()
        _seed(model)
        for rows, publisher in ((first, p1), (second, p2), (first, p1)):
            merge(_link_rows(rows), publisher=publisher)
            model.merge(rows, publisher.name)
            assert _db_state() == model.state(), (name, publisher.name)
        results[name] = _db_state()
    assert results["batched"] == results["staged"]
    assert results["staged"]["conflicts"], "the two publishers disagree somewhere"


def test_merging_the_same_rows_again_changes_nothing():
    rows = _link_rows(_random_rows(random.Random(99), 60, "1"))
    p1, _ = _publishers()
    first = merge_links_staged(rows, publisher=p1)
    before = _db_state()
    stamps = sorted(Link.objects.values_list("id", "updated_at"))
    seen: list[list[int]] = []

    def receiver(sender, *, x_ids, **kwargs):
        seen.append(list(x_ids))

    directory_changed.connect(receiver)
    try:
        again = merge_links_staged(rows, publisher=p1)
    finally:
        directory_changed.disconnect(receiver)
    assert first.created > 0
    assert (again.created, again.strengthened) == (0, 0)
    assert again.unchanged == Link.objects.count()
    assert _db_state() == before
    assert sorted(Link.objects.values_list("id", "updated_at")) == stamps
    assert seen == [[]]  # sent once, with nobody changed


def test_the_signal_names_the_changed_accounts_once():
    p1, _ = _publishers()
    rows = _random_rows(random.Random(5), 20, "1")
    merge_links_staged(_link_rows(rows), publisher=p1)
    seen: list[list[int]] = []

    def receiver(sender, *, x_ids, **kwargs):
        seen.append(list(x_ids))

    stronger = {**rows[0], "evidence": "x_oauth", "asserted_at": datetime(2027, 1, 1, tzinfo=UTC)}
    newcomer = {**rows[0], "x_id": "77", "handle": "new@m.example", "network": "mastodon"}
    newcomer["id"] = ""
    directory_changed.connect(receiver)
    try:
        merge_links_staged(_link_rows([stronger, newcomer, *rows[1:]]), publisher=p1)
    finally:
        directory_changed.disconnect(receiver)
    assert seen == [sorted({int(rows[0]["x_id"]), 77})]


def _signed(tmp_path, name: str, rows: list[dict]):
    key = generate_signing_key("P1", data_dir=tmp_path / "keys", replace=True)
    trust_publisher(key.name, key.public_b64)
    import base64
    import hashlib

    from hirondelle.identity.services.snapshots import FORMAT, _statement

    body = "".join(
        json.dumps({**r, "asserted_at": r["asserted_at"].isoformat()}) + "\n" for r in rows
    )
    path = tmp_path / name
    path.write_text(body)
    digest = hashlib.sha256(body.encode()).hexdigest()
    signature = key.private.sign(_statement(key.name, digest, len(rows)))
    (tmp_path / f"{name}.sig").write_text(
        json.dumps(
            {
                "format": FORMAT,
                "publisher": key.name,
                "public_key": key.public_b64,
                "sha256": digest,
                "lines": len(rows),
                "signature": base64.b64encode(signature).decode(),
            }
        )
    )
    return path


def test_a_signed_snapshot_merges_as_the_rules_say(tmp_path):
    rows = _random_rows(random.Random(7), 50, "1")
    model = _Model()
    _seed(model)
    known = set(model.links)
    result = import_snapshot(_signed(tmp_path, "a.jsonl", rows))
    model.merge(rows, "P1")
    assert _db_state() == model.state()
    assert result.stats.created == len(set(model.links) - known)


def test_a_failing_snapshot_leaves_nothing(tmp_path):
    model = _Model()
    _seed(model)
    before = _db_state()
    rows = _random_rows(random.Random(8), 30, "1")
    # Two handles naming one URI: refused at the merge, after rows were staged.
    clash = {**rows[0], "network": "bluesky", "handle": "a.bsky.example", "id": "did:plc:same"}
    path = _signed(tmp_path, "b.jsonl", [*rows, clash, {**clash, "handle": "b.bsky.example"}])
    with pytest.raises(SnapshotError, match="name the same account"):
        import_snapshot(path)
    assert _db_state() == before
    path = _signed(tmp_path, "c.jsonl", rows)
    path.write_text(path.read_text().replace("example", "exampl3", 1))
    with pytest.raises(TamperedSnapshot):
        import_snapshot(path)
    assert _db_state() == before


def test_two_handles_for_one_known_account_are_refused_whole():
    from hirondelle.identity.services.errors import InvalidLink

    model = _Model()
    _seed(model)  # x 1 is u1@m.example, with its URI
    before = _db_state()
    handle, uri = _account("mastodon", 1)
    rows = [
        LinkRow.make(4, "mastodon", "renamed@m.example", uri, evidence="self", asserted_by="t"),
        LinkRow.make(5, "mastodon", handle, evidence="self", asserted_by="t"),
    ]
    with pytest.raises(InvalidLink, match="name the same account"):
        merge_links_staged(rows)
    assert _db_state() == before


def test_a_new_link_beside_an_earlier_one_is_settled_and_beside_a_rejected_one_stands():
    """The groups to settle are found from the rows and the links already there.

    A link added to a group that holds an earlier link (not in these rows)
    must be weighed against it; a group whose only earlier link is rejected
    gets a lone current link and no conflict; two accounts named for one X
    account in the same rows are weighed against each other.
    """
    from hirondelle.identity.services.directory import reject_link

    def row(x: int, handle: str, evidence: str) -> LinkRow:
        return LinkRow.make(x, "mastodon", handle, evidence=evidence, asserted_by="t")

    merge_links_staged([row(1, "a@m.example", "domain"), row(2, "b@m.example", "domain")])
    reject_link(Link.objects.get(x_account_id=2))
    merge_links_staged(
        [
            row(1, "a2@m.example", "domain"),  # ties the earlier link: both contested
            row(2, "b2@m.example", "self"),  # beside a rejected link only
            row(3, "c@m.example", "roster"),  # two accounts for x 3 in the same rows
            row(3, "c2@m.example", "self"),
        ]
    )
    states = {
        (x, h): s
        for x, h, s in Link.objects.values_list("x_account_id", "network_account__handle", "state")
    }
    assert states == {
        (1, "a@m.example"): Link.State.CONTESTED,
        (1, "a2@m.example"): Link.State.CONTESTED,
        (2, "b@m.example"): Link.State.REJECTED,
        (2, "b2@m.example"): Link.State.CURRENT,
        (3, "c@m.example"): Link.State.CURRENT,
        (3, "c2@m.example"): Link.State.SUPERSEDED,
    }
    conflicts = dict(LinkConflict.objects.values_list("x_account_id", "contenders"))
    assert conflicts == {1: 2, 3: 2}
