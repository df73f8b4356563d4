"""Discovery on 5,000 followed accounts: precision, recall, requests, time at budget.

A generated population (true owners on Bluesky and on the fediverse, claiming
their X account in their bio, a profile field or not at all, or named by their
X display name; Bridgy Fed mirrors; impostors: new, empty accounts claiming an
X account, some the only claimant; strangers with the same display name; and
people who are nowhere) is served by an in-process fake on 127.0.0.1 that
answers like Bluesky's public AppView (searchActors over the words of handle,
display name and bio; getProfiles) and like a Mastodon server (account search
over names, lookup, profile fields with `verified_at`). It is a fake: the
figures are about Hirondelle's choices, not the networks' speed.

Hirondelle's discovery runs for real (SQLite in a temporary data directory,
the service, the public cache, the budgets on a virtual clock, so the time a
run would take at each network's budget is measured, not guessed). The
baseline in the same run is the simplest tool: one Bluesky search per
account's username, keeping every result whose handle, display name or bio
carries the name (what Sky Follower Bridge does).

    .venv/bin/python bench/discover.py              # 5,000 accounts (~2-4 min)
    .venv/bin/python bench/discover.py --scale 0.1  # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

NOW = datetime.now(UTC)
OLD = (NOW - timedelta(days=900)).isoformat().replace("+00:00", "Z")
NEW = (NOW - timedelta(days=3)).isoformat().replace("+00:00", "Z")
FIRST = [
    "ana",
    "bea",
    "carl",
    "dora",
    "emil",
    "fay",
    "gus",
    "hana",
    "ivo",
    "jade",
    "karl",
    "lea",
    "milo",
    "nina",
    "otto",
    "pia",
    "remy",
    "sara",
    "tom",
    "una",
    "vic",
    "wes",
    "yan",
    "zoe",
]
LAST = [
    "roux",
    "blanc",
    "petit",
    "moreau",
    "girard",
    "bonnet",
    "dupont",
    "lambert",
    "fontaine",
    "rousseau",
    "vincent",
    "muller",
    "leroy",
    "faure",
    "andre",
    "mercier",
]


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", (text or "").lower()) if w]


# --- the population --------------------------------------------------------------


@dataclass
class Account:
    network: str
    id: str
    handle: str
    display_name: str = ""
    bio: str = ""
    fields: list = field(default_factory=list)
    posts: int = 0
    followers: int = 0
    created: str = OLD


@dataclass
class XPerson:
    x_id: int
    username: str
    display_name: str
    kind: str
    truth: set = field(default_factory=set)  # (network, account id) of the true owner


def build(n: int, seed: int = 11) -> tuple[list[XPerson], list[Account]]:
    rng = random.Random(seed)
    people: list[XPerson] = []
    accounts: list[Account] = []
    kinds = [
        ("bsky_bio", 0.13),
        ("bsky_xname", 0.08),
        ("bsky_two_way", 0.08),
        ("bsky_same_handle", 0.06),
        ("fedi_xname", 0.07),
        ("fedi_verified", 0.04),
        ("fedi_bio", 0.04),
        ("bridged", 0.03),
        ("absent", 0.47),
    ]
    names, weights = zip(*kinds, strict=True)

    def did(i: str) -> str:
        return "did:plc:" + re.sub(r"[^a-z0-9]", "", i)[:24].ljust(24, "a")

    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        username = f"{first}{last[:3]}{i}"
        display = f"{first.title()} {last.title()} {i}"
        kind = rng.choices(names, weights)[0]
        p = XPerson(10_000_000 + i, username, display, kind)
        posts, followers = rng.randint(5, 4000), rng.randint(3, 20000)
        if kind.startswith("bsky") or kind == "bridged":
            if kind == "bsky_same_handle":
                handle = f"{username.lower()}.bsky.social"
            elif kind == "bridged":
                handle = f"{first}{i}.piaille.fr.ap.brid.gy"
            else:
                handle = f"{first}-{last}-{i}.bsky.social"
            bio = rng.choice(["Photos and walks.", "Journalist.", "Teacher, retired.", ""])
            if kind in ("bsky_bio", "bsky_two_way", "bridged"):
                bio = rng.choice(
                    [f"{bio} Formerly x.com/{username}", f"ex twitter.com/{username} · {bio}"]
                )
            if kind in ("bsky_xname", "bsky_two_way"):
                p.display_name = f"{display} 🦋 {handle}"
            acc = Account(
                "bluesky", did(f"t{i}{first}"), handle, display, bio, [], posts, followers
            )
            accounts.append(acc)
            p.truth.add(("bluesky", acc.id))
            if kind == "bridged":
                native = Account(
                    "mastodon",
                    f"https://piaille.fr/users/{first}{i}",
                    f"{first}{i}@piaille.fr",
                    display,
                    f"x.com/{username}",
                    [],
                    posts,
                    followers,
                )
                accounts.append(native)
                p.truth.add(("mastodon", native.id))
        elif kind.startswith("fedi"):
            server = rng.choice(["piaille.fr", "mastodon.social", "framapiaf.org"])
            user = username.lower() if kind != "fedi_xname" else f"{first}_{i}"
            acc = Account(
                "mastodon",
                f"https://{server}/users/{user}",
                f"{user}@{server}",
                display,
                f"twitter.com/{username}" if kind == "fedi_bio" else "Hello.",
                [],
                posts,
                followers,
            )
            if kind == "fedi_verified":
                acc.fields = [
                    {
                        "name": "X",
                        "value": f'<a href="https://x.com/{username}">x.com/{username}</a>',
                        "verified_at": OLD,
                    }
                ]
            if kind == "fedi_xname":
                p.display_name = f"{display} @{user}@{server}"
            accounts.append(acc)
            p.truth.add(("mastodon", acc.id))
        # impostors: new, empty, claiming this X account (some the only claimant)
        if rng.random() < 0.08:
            fake = Account(
                "bluesky",
                did(f"imp{i}{last}"),
                f"{username.lower()}-official.bsky.social",
                display,
                f"The real x.com/{username}",
                [],
                0,
                rng.randint(0, 3),
                NEW,
            )
            accounts.append(fake)
        # strangers with the same display name
        if rng.random() < 0.08:
            accounts.append(
                Account(
                    "bluesky",
                    did(f"str{i}{first}"),
                    f"{first}{last}{rng.randint(100, 999)}x{i}.bsky.social",
                    display,
                    "Not on X, never was.",
                    [],
                    rng.randint(1, 500),
                    rng.randint(0, 500),
                )
            )
        people.append(p)
    return people, accounts


# --- the fake networks ------------------------------------------------------------


class Fake:
    """Answers like Bluesky's public AppView and like a Mastodon server (a fake)."""

    def __init__(self, accounts: list[Account]) -> None:
        self.bsky = [a for a in accounts if a.network == "bluesky"]
        self.fedi = [a for a in accounts if a.network == "mastodon"]
        self.by_did = {a.id: a for a in self.bsky}
        self.by_handle = {a.handle: a for a in self.bsky}
        self.by_acct = {a.handle: a for a in self.fedi}
        self.bsky_index: dict[str, list[Account]] = defaultdict(list)
        for a in self.bsky:
            for w in set(words(a.handle) + words(a.display_name) + words(a.bio)):
                self.bsky_index[w].append(a)
        self.fedi_index: dict[str, list[Account]] = defaultdict(list)
        for a in self.fedi:
            for w in set(words(a.handle) + words(a.display_name)):
                self.fedi_index[w].append(a)
        self.hits: dict[str, int] = defaultdict(int)

    @staticmethod
    def _search(index, q: str, limit: int) -> list[Account]:
        terms = words(q)
        if not terms:
            return []
        found = None
        for t in terms:
            ids = {id(a): a for a in index.get(t, [])}
            found = ids if found is None else {k: v for k, v in found.items() if k in ids}
        return list((found or {}).values())[:limit]

    def bsky_view(self, a: Account, detailed: bool) -> dict:
        view = {
            "did": a.id,
            "handle": a.handle,
            "displayName": a.display_name,
            "description": a.bio,
            "avatar": f"https://cdn.example/{a.id}.jpg",
        }
        if detailed:
            view |= {"followersCount": a.followers, "postsCount": a.posts, "createdAt": a.created}
        return view

    def fedi_view(self, a: Account) -> dict:
        user = a.handle.split("@")[0]
        return {
            "id": str(abs(hash(a.id)) % 10**12),
            "acct": a.handle,
            "username": user,
            "uri": a.id,
            "url": a.id.replace("/users/", "/@"),
            "display_name": a.display_name,
            "note": f"<p>{a.bio}</p>",
            "fields": a.fields,
            "followers_count": a.followers,
            "statuses_count": a.posts,
            "created_at": a.created,
            "avatar": "",
        }

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, object]:
        self.hits[path] += 1
        if path == "/xrpc/app.bsky.actor.searchActors":
            limit = int(query.get("limit", ["25"])[0])
            found = self._search(self.bsky_index, query.get("q", [""])[0], limit)
            return 200, {"actors": [self.bsky_view(a, False) for a in found]}
        if path == "/xrpc/app.bsky.actor.getProfiles":
            out = []
            for actor in query.get("actors", [])[:25]:
                a = self.by_did.get(actor) or self.by_handle.get(actor.lower())
                if a:
                    out.append(self.bsky_view(a, True))
            return 200, {"profiles": out}
        if path == "/api/v2/instance":
            return 200, {"domain": "home.example"}
        if path == "/api/v2/search":
            q = query.get("q", [""])[0].lstrip("@").lower()
            if "@" in q:
                found = [self.by_acct[q]] if q in self.by_acct else []
            else:
                found = self._search(self.fedi_index, q, int(query.get("limit", ["10"])[0]))
            return 200, {
                "accounts": [self.fedi_view(a) for a in found],
                "statuses": [],
                "hashtags": [],
            }
        if path == "/api/v1/accounts/lookup":
            acct = query.get("acct", [""])[0].lower()
            if acct in self.by_acct:
                return 200, self.fedi_view(self.by_acct[acct])
            return 404, {"error": "Record not found"}
        return 404, {"error": "not here"}


def serve(fake: Fake) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, body = fake.answer(url.path, parse_qs(url.query))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- scoring --------------------------------------------------------------------


def score(people: list[XPerson], found: set, chosen: set, impostor_ids: set) -> dict:
    truth = {(p.x_id, n, a) for p in people for n, a in p.truth}
    owners = {p.x_id for p in people if p.truth}
    found_owners = {x for x, n, a in found if (x, n, a) in truth}
    return {
        "candidates": len(found),
        "true_found": len(found & truth),
        "precision_found": len(found & truth) / len(found) if found else 1.0,
        "recall_accounts": len(found & truth) / len(truth) if truth else 1.0,
        "recall_people": len(found_owners) / len(owners) if owners else 1.0,
        "preselected": len(chosen),
        "precision_preselected": len(chosen & truth) / len(chosen) if chosen else 1.0,
        "recall_preselected": len(chosen & truth) / len(truth) if truth else 1.0,
        "impostors_listed": sum(1 for _, _, a in found if a in impostor_ids),
        "impostors_preselected": sum(1 for _, _, a in chosen if a in impostor_ids),
        "people_found": len(found_owners),
    }


def baseline(people: list[XPerson], appview: str) -> tuple[dict, int, float]:
    """One Bluesky search per username; keep results that carry the name."""
    found, requests = set(), 0
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for p in people:
            requests += 1
            r = client.get(
                f"{appview}/xrpc/app.bsky.actor.searchActors", params={"q": p.username, "limit": 25}
            )
            u = p.username.lower()
            for a in r.json()["actors"]:
                text = " ".join([a["handle"], a.get("displayName", ""), a.get("description", "")])
                if u in text.lower():
                    found.add((p.x_id, "bluesky", a["did"]))
    return {"found": found}, requests, time.perf_counter() - started


# --- Hirondelle --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def hirondelle(people: list[XPerson], base: str) -> tuple[set, set, dict, float, float]:
    os.environ["HIRONDELLE_DATA_DIR"] = tempfile.mkdtemp(prefix="hirondelle-bench-discover-")
    # the fake networks listen on 127.0.0.1, over plain HTTP: let the guard through
    os.environ["HIRONDELLE_ALLOW_PRIVATE_ADDRESSES"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "hirondelle.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from hirondelle.identity.models import User, XAccount
    from hirondelle.migration.models import (
        ArchiveName,
        Direction,
        DiscoveryCandidate,
        Edge,
        Migration,
    )
    from hirondelle.migration.services import discovery
    from hirondelle.networks.mastodon import MastodonAdapter
    from hirondelle.networks.search import BlueskyPublic, MastodonSearch

    owner = User.objects.create(username="bench")
    me = XAccount.objects.create(id=1, username="me")
    migration = Migration.objects.create(owner=owner, x_account=me)
    Edge.objects.bulk_create(
        [
            Edge(
                migration=migration,
                direction=Direction.FOLLOWING,
                x_account_id=p.x_id,
                generation=1,
            )
            for p in people
        ],
        batch_size=2000,
    )
    ArchiveName.objects.bulk_create(
        [
            ArchiveName(
                migration=migration,
                x_account_id=p.x_id,
                username=p.username[:20],
                display_name=p.display_name[:200],
                seen_at=timezone.now(),
                post_id="1",
                source="mention",
            )
            for p in people
        ],
        batch_size=2000,
    )
    clock = Clock()
    bluesky = BlueskyPublic(base, clock=clock)
    mastodon = MastodonSearch(MastodonAdapter(base, "token", clock=clock))
    discovery.start_discovery(migration, consent=True)
    wall = time.perf_counter()
    waits = 0.0
    while True:
        run = discovery.run_discovery(migration, bluesky=bluesky, mastodon=mastodon)
        if run.state == "waiting":
            wait = max(1.0, (run.next_at - timezone.now()).total_seconds())
            clock.t += wait  # the budgets' clock: wait without waiting
            waits += wait
            continue
        if run.state != "done":
            raise SystemExit(f"discovery stopped: {run.state} {run.error}")
        break
    wall = time.perf_counter() - wall
    found, chosen = set(), set()
    for c in DiscoveryCandidate.objects.filter(migration=migration):
        key = (c.x_account_id, c.network, c.account)
        found.add(key)
        if c.preselected:
            chosen.add(key)
    requests = dict(run.requests)
    return found, chosen, requests, wall, waits


def report(people, accounts, fake, base, ours, found, requests, wall, waited) -> None:
    base_score, base_requests, base_wall = base
    n = len(people)
    owners = sum(1 for p in people if p.truth)
    impostors = sum(1 for a in accounts if a.handle.endswith("-official.bsky.social"))
    kinds: dict[str, int] = defaultdict(int)
    for p in people:
        kinds[p.kind] += 1
    served = len(fake.bsky) + len(fake.fedi)
    print(
        f"Population: {n:,} followed accounts, {owners:,} with a true owner somewhere, "
        f"{impostors:,} impostors, {served:,} accounts served."
    )
    print("  " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    rows = [
        ("baseline: username search (all kept)", base_score, {"bluesky": base_requests}),
        ("Hirondelle: candidates listed", ours, requests),
    ]
    print()
    head = ("listed", "precision", "recall", "impostors", "requests", "req/found")
    print(f"{'':44} " + " ".join(f"{h:>9}" for h in head))
    for label, s, req in rows:
        total_req = sum(req.values())
        per = total_req / s["people_found"] if s["people_found"] else float("inf")
        print(
            f"{label:44} {s['candidates']:>9,} {s['precision_found']:>9.1%} "
            f"{s['recall_accounts']:>9.1%} {s['impostors_listed']:>9,} {total_req:>9,} {per:>9.2f}"
        )
    print(
        f"{'Hirondelle: preselected (ticked in advance)':44} {ours['preselected']:>9,} "
        f"{ours['precision_preselected']:>9.1%} {ours['recall_preselected']:>9.1%} "
        f"{ours['impostors_preselected']:>9,}"
    )
    print()
    bsky_rate, fedi_rate = 3000 / 300, 300 / 300
    bsky, fedi = requests.get("bluesky", 0), requests.get("mastodon", 0)
    print("Time at the budgets (Bluesky 3,000 / 5 min per address; Mastodon 300 / 5 min):")
    print(f"  baseline: {base_requests / bsky_rate / 60:.1f} min of Bluesky's budget")
    print(
        f"  Hirondelle: Bluesky {bsky:,} requests = {bsky / bsky_rate / 60:.1f} min; "
        f"Mastodon {fedi:,} requests = {fedi / fedi_rate / 60:.1f} min"
    )
    print(f"  Hirondelle's run on a virtual clock, waiting for windows: {waited / 60:.1f} min")
    print(f"  wall time here: baseline {base_wall:.1f} s, Hirondelle {wall:.1f} s (fake, SQLite)")
    print()
    total = bsky + fedi
    per = total / ours["people_found"] if ours["people_found"] else float("inf")
    goals = [
        ("no impostor preselected", ours["impostors_preselected"] == 0),
        ("preselected precision 100 %", ours["precision_preselected"] == 1.0),
        ("finds more true owners than the baseline", ours["true_found"] > base_score["true_found"]),
        ("recall of people with a true owner >= 95 %", ours["recall_people"] >= 0.95),
        ("at most 4 requests per person found", per <= 4.0),
    ]
    for label, ok in goals:
        print(f"  [{'met' if ok else 'MISSED'}] {label}")
    missed: dict[str, int] = defaultdict(int)
    for p in people:
        if p.truth and not any((p.x_id, net, acc) in found for net, acc in p.truth):
            missed[p.kind] += 1
    print("  true owners missed: " + (", ".join(f"{k} {v}" for k, v in missed.items()) or "none"))
    print(
        f"  people with an owner found: {ours['recall_people']:.1%}; requests per person "
        f"found: {per:.2f}; true accounts found: baseline {base_score['true_found']:,}, "
        f"Hirondelle {ours['true_found']:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 5,000 followed accounts")
    args = parser.parse_args()
    n = max(50, round(5000 * args.scale))
    people, accounts = build(n)
    impostor_ids = {a.id for a in accounts if a.handle.endswith("-official.bsky.social")}
    fake = Fake(accounts)
    server, url = serve(fake)
    try:
        base_out, base_requests, base_wall = baseline(people, url)
        base_score = score(people, base_out["found"], base_out["found"], impostor_ids)
        found, chosen, requests, wall, waited = hirondelle(people, url)
        ours = score(people, found, chosen, impostor_ids)
    finally:
        server.shutdown()
    report(
        people,
        accounts,
        fake,
        (base_score, base_requests, base_wall),
        ours,
        found,
        requests,
        wall,
        waited,
    )


if __name__ == "__main__":
    main()
