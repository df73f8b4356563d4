"""Search the networks for the people of a person's X graph who joined no directory.

For each named X account of the graph that the directory did not match,
discovery asks once: Bluesky's public search (by username, and by display
name when the username found nobody), the person's own Mastodon server (by
username, unless the X display name gives an address), and the addresses
the X display name itself claims (looked up directly). It reads the full
profiles of what it keeps (25 per Bluesky request), decides the evidence
with the pure claims rules, and records candidates for this person's
migration only.

Privacy and cost: every answer is a public fact cached for a week for
everyone on the portal (`PublicFinding`), keyed by what was asked, never
by who asked or whose server answered. The same cache makes a run
resumable: accounts are searched in X id order, the run's cursor moves
after each batch's candidates are written, and a killed run asks no
answered question again. Budgets: Bluesky's public API is one budget
shared by the whole portal (`SharedBudget`), Mastodon's is the connected
account's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.identity.models import PublicFinding, x_id_from_db, x_id_to_db
from hirondelle.migration.models import (
    ConnectedAccount,
    Direction,
    DiscoveryCandidate,
    DiscoveryRun,
    Migration,
    SharedBudget,
)
from hirondelle.migration.services import discovery_rules as rules
from hirondelle.networks import guard
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NetworkError,
    RateLimited,
    Refused,
    Unavailable,
)
from hirondelle.networks.mastodon import MastodonAdapter
from hirondelle.networks.search import BlueskyPublic, MastodonSearch, PublicProfile

__all__ = [
    "CACHE_FOR",
    "CachedSearch",
    "NamedAccount",
    "Progress",
    "candidate_items",
    "candidates_for",
    "choose",
    "progress",
    "queue_discovery",
    "run_discovery",
    "run_discovery_locked",
    "schedule_rerun",
    "start_discovery",
]

#: how long a public answer is reused, for everyone on the portal
CACHE_FOR = timedelta(days=7)
#: named accounts per batch: one getProfiles request reads their candidates
BATCH = 25
BLUESKY_BUDGET = "bluesky_public"
#: results kept from one search (the first page is where a person's own name is)
SEARCH_LIMIT = 25


@dataclass(frozen=True, slots=True)
class NamedAccount:
    """An X account of the graph with the name the person's archive gives it."""

    x_id: int  # stored form (`x_id_to_db`), like the graph's edges
    username: str
    display_name: str = ""
    seen_in: str = ""  # the X post id that named it
    matched: frozenset[str] = frozenset()  # networks the directory already found it on


# --- the cache of public answers -------------------------------------------------


def _key(network: str, kind: str, query: str) -> str:
    query = " ".join(query.casefold().split())
    key = f"{network}:{kind}:{query}"
    if len(key) > 250:  # long display names: still keyed by what was asked
        key = f"{network}:{kind}:#" + hashlib.sha256(query.encode()).hexdigest()
    return key


class CachedSearch:
    """The network searches, each answered at most once a week per portal.

    `requests` counts what actually went out, per network; `cached` counts
    answers taken from the cache.
    """

    def __init__(
        self,
        *,
        bluesky: BlueskyPublic | None,
        mastodon: MastodonSearch | None,
        now: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.bluesky = bluesky
        self.mastodon = mastodon
        self.now = now
        self.requests: dict[str, int] = {"bluesky": 0, "mastodon": 0}
        self.cached = 0
        self.problems: list[str] = []  # what could not be searched, said to the person

    def _fresh(self, keys: Iterable[str]) -> dict[str, object]:
        since = self.now() - CACHE_FOR
        return dict(
            PublicFinding.objects.filter(key__in=list(keys), fetched_at__gte=since).values_list(
                "key", "answer"
            )
        )

    def _store(self, answers: dict[str, object]) -> None:
        now = self.now()
        PublicFinding.objects.bulk_create(
            [PublicFinding(key=k, answer=v, fetched_at=now) for k, v in answers.items()],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["answer", "fetched_at"],
        )

    def _sent(self, network: str) -> int:
        client = self.bluesky if network == "bluesky" else self.mastodon
        return sum(client.requests.values()) if client is not None else 0

    def _one(
        self, network: str, kind: str, query: str, ask: Callable[[], object], empty: object
    ) -> object:
        """One question, from the week's cache or asked (and then cached).

        A question the server refuses (HTTP 4xx) is answered `empty`: one odd
        name must not stop the search of everyone else.
        """
        key = _key(network, kind, query)
        found = self._fresh([key])
        if key in found:
            self.cached += 1
            return found[key]
        before = self._sent(network)
        try:
            answer = ask()
        except Refused as error:
            if isinstance(error, AuthExpired | guard.GuardError):
                raise
            answer = empty
        finally:
            self.requests[network] += self._sent(network) - before
        self._store({key: answer})
        return answer

    def bluesky_search(self, query: str) -> list[PublicProfile]:
        assert self.bluesky is not None
        bluesky = self.bluesky

        def ask() -> list[dict]:
            return [p.to_dict() for p in bluesky.search_actors(query, limit=SEARCH_LIMIT)]

        answer = self._one("bluesky", "search", query, ask, [])
        return [PublicProfile.from_dict(d) for d in answer]

    def bluesky_profiles(self, actors: Sequence[str]) -> dict[str, PublicProfile]:
        """Full profiles by DID or handle (handles are looked up by handle)."""
        assert self.bluesky is not None
        wanted = list(dict.fromkeys(a.lower() if not a.startswith("did:") else a for a in actors))
        keys = {a: _key("bluesky", "profile", a) for a in wanted}
        found = self._fresh(keys.values())
        out: dict[str, PublicProfile] = {}
        missing = []
        for actor, key in keys.items():
            if key in found:
                self.cached += 1
                if found[key]:
                    out[actor] = PublicProfile.from_dict(found[key])
            else:
                missing.append(actor)
        if missing:
            before = self.bluesky.requests.get("app.bsky.actor.getProfiles", 0)
            profiles = self.bluesky.get_profiles(missing)
            self.requests["bluesky"] += (
                self.bluesky.requests.get("app.bsky.actor.getProfiles", 0) - before
            )
            answers: dict[str, object] = {keys[a]: None for a in missing}
            for profile in profiles:
                for actor in (profile.account, profile.handle):
                    if actor in keys:
                        answers[keys[actor]] = profile.to_dict()
                        out[actor] = profile
                # also under its DID, when it was asked for by handle
                answers[_key("bluesky", "profile", profile.account)] = profile.to_dict()
            self._store(answers)
        return out

    def mastodon_search(self, query: str) -> list[PublicProfile]:
        assert self.mastodon is not None
        mastodon = self.mastodon

        def ask() -> list[dict]:
            return [p.to_dict() for p in mastodon.search(query)]

        answer = self._one("mastodon", "search", query, ask, [])
        return [PublicProfile.from_dict(d) for d in answer]

    def mastodon_lookup(self, address: str) -> PublicProfile | None:
        assert self.mastodon is not None
        mastodon = self.mastodon

        def ask() -> dict | None:
            found = mastodon.lookup(address)
            return found.to_dict() if found else None

        answer = self._one("mastodon", "lookup", address, ask, None)
        return PublicProfile.from_dict(answer) if answer else None


# --- which accounts to search ------------------------------------------------------


def named_accounts(migration: Migration) -> Iterator[NamedAccount]:
    """The people followed whom the archive names, not yet matched on both networks.

    From `discovery_names.named_accounts` (the archive's names, their claims,
    their existing matches), in X id order (stored form, like the graph's
    edges), so a run's cursor can resume after the last one searched.
    """
    from hirondelle.migration.services.discovery_names import named_accounts as archive_names

    rows = [
        NamedAccount(
            x_id_to_db(n.x_id), n.username, n.display_name, n.post_id, frozenset(n.matched)
        )
        for n in archive_names(migration)
        if "following" in n.directions
        and n.username
        and not {"bluesky", "mastodon"} <= n.matched
        and x_id_to_db(n.x_id) != migration.x_account_id
    ]
    yield from sorted(rows, key=lambda n: n.x_id)


# --- one batch ------------------------------------------------------------------


@dataclass
class Found:
    """What one batch found for one X account on one network."""

    named: NamedAccount
    profile: PublicProfile
    bridged_from: str = ""


def _queries(named: NamedAccount) -> list[str]:
    queries = [named.username]
    display = named.display_name.strip()
    if display and rules.norm(display) != rules.norm(named.username):
        queries.append(display)
    return queries


def _search_mastodon(search: CachedSearch, named: NamedAccount, x_claims, keep) -> None:
    """The fediverse side for one X account: its claimed addresses, else its username."""
    if not x_claims.fediverse:  # else the X side says where: look it up instead
        for profile in search.mastodon_search(named.username):
            if rules.relevant(named, profile, x_claims):
                keep(named, profile)
    for address in x_claims.fediverse:
        try:
            profile = search.mastodon_lookup(address)
        except ValueError:
            continue  # not an address after all
        if profile is not None:
            keep(named, profile)


def _search_batch(
    search: CachedSearch, batch: Sequence[NamedAccount]
) -> dict[tuple[int, str], dict[str, Found]]:
    """X id, network → account → what was found, for the accounts of one batch."""
    found: dict[tuple[int, str], dict[str, Found]] = {}
    to_read: dict[str, list[NamedAccount]] = {}  # Bluesky actor → who it may be

    def keep(named: NamedAccount, profile: PublicProfile, bridged_from: str = "") -> None:
        bucket = found.setdefault((named.x_id, profile.network), {})
        bucket.setdefault(profile.account, Found(named, profile, bridged_from))

    for named in batch:
        x_claims = rules.x_side_claims(named.display_name)
        if search.bluesky is not None and "bluesky" not in named.matched:
            kept = False
            for query in _queries(named):
                if query != named.username and (kept or x_claims.bluesky):
                    # The username found someone, or the X side names its
                    # account: a search by display name would only add
                    # people who share a name.
                    continue
                for profile in search.bluesky_search(query):
                    if rules.relevant(named, profile, x_claims):
                        kept = True
                        to_read.setdefault(profile.account, []).append(named)
            for handle in x_claims.bluesky:
                to_read.setdefault(handle, []).append(named)
        if search.mastodon is not None and "mastodon" not in named.matched:
            try:
                _search_mastodon(search, named, x_claims, keep)
            except (AuthExpired, InvalidResponse, guard.GuardError) as error:
                # The person's server refuses us or answers nonsense: the rest
                # of the search goes on without it, and the run says so.
                search.mastodon = None
                search.problems.append(error.message)
    if search.bluesky is not None and to_read:
        profiles = search.bluesky_profiles(list(to_read))
        for actor, people in to_read.items():
            profile = profiles.get(actor if actor.startswith("did:") else actor.lower())
            if profile is None:
                continue
            for named in people:
                keep(named, profile)
    # Bridgy Fed: a mirror found on one network stands for an account on the other.
    for (_x_id, _network), accounts in list(found.items()):
        for item in list(accounts.values()):
            native = rules.bridged_native(item.profile)
            if native is None:
                continue
            network, handle = native
            if network in item.named.matched:
                other = None  # the directory already knows them there
            elif network == "mastodon" and search.mastodon is not None:
                try:
                    other = search.mastodon_lookup(handle)
                except ValueError:
                    other = None
            elif network == "bluesky" and search.bluesky is not None:
                other = search.bluesky_profiles([handle]).get(handle)
            else:
                other = None
            if other is not None:
                keep(item.named, other, bridged_from=item.profile.handle)
    return found


def _candidates(
    migration: Migration, found: dict[tuple[int, str], dict[str, Found]], now: datetime
) -> list[DiscoveryCandidate]:
    rows = []
    for (x_id, network), accounts in found.items():
        items = list(accounts.values())
        decided = [
            (
                item,
                rules.evidence_for(item.named, item.profile, bridged_from=item.bridged_from),
            )
            for item in items
        ]
        decided = [(item, d) for item, d in decided if d is not None]
        chosen = rules.preselect([(item.profile, d) for item, d in decided], now=now)
        for (item, d), pre in zip(decided, chosen, strict=True):
            rows.append(
                DiscoveryCandidate(
                    migration=migration,
                    x_account_id=x_id,
                    x_username=item.named.username[:64],
                    x_display_name=item.named.display_name[:200],
                    x_seen_in=item.named.seen_in[:32],
                    network=network,
                    account=item.profile.account[:500],
                    handle=item.profile.handle[:255],
                    evidence=d.evidence,
                    preselected=pre,
                    bridged_from=item.bridged_from[:255],
                    profile={**item.profile.to_dict(), "claim": d.claim},
                )
            )
    return rows


# --- running --------------------------------------------------------------------


def start_discovery(migration: Migration, *, consent: bool) -> DiscoveryRun:
    """Record the person's explicit yes; start from the first account, or
    resume a run that was stopped.

    Without `consent` nothing is searched: the yes is the only way in.
    """
    if not consent:
        raise PermissionError(
            "Searching the networks sends the X usernames of the people you follow to "
            "Bluesky's public search and to your own server: it needs your explicit yes."
        )
    now = timezone.now()
    run = DiscoveryRun.objects.filter(migration=migration).first()
    unfinished = (DiscoveryRun.State.QUEUED, DiscoveryRun.State.RUNNING, DiscoveryRun.State.WAITING)
    if run is not None and run.state in unfinished:
        # A run that was stopped resumes where it was; only the yes is renewed.
        DiscoveryRun.objects.filter(pk=run.pk).update(consented_at=now)
        run.consented_at = now
        return run
    total = sum(1 for _ in named_accounts(migration))
    run, _ = DiscoveryRun.objects.update_or_create(
        migration=migration,
        defaults={
            "consented_at": now,
            "state": DiscoveryRun.State.QUEUED,
            "cursor": None,
            "total": total,
            "searched": 0,
            "requests": {},
            "cached": 0,
            "error": "",
            "next_at": None,
            "started_at": None,
            "finished_at": None,
        },
    )
    return run


def _searchers(
    migration: Migration, bluesky: BlueskyPublic | None, mastodon: MastodonSearch | None
) -> tuple[BlueskyPublic | None, MastodonSearch | None, ConnectedAccount | None]:
    """The default searchers: the AppView setting, and the person's Mastodon account."""
    account = None
    if bluesky is None:
        from hirondelle.config import get_settings

        state = SharedBudget.objects.filter(pk=BLUESKY_BUDGET).values_list("state", flat=True)
        bluesky = BlueskyPublic(
            get_settings().bluesky_appview_url, budget_state=state.first() or None
        )
    if mastodon is None:
        from hirondelle.migration.services.adapters import adapter_for

        account = (
            ConnectedAccount.objects.filter(
                user=migration.owner, network="mastodon", status=ConnectedAccount.Status.ACTIVE
            )
            .order_by("pk")
            .first()
        )
        adapter = adapter_for(account) if account is not None else None
        if isinstance(adapter, MastodonAdapter):
            mastodon = MastodonSearch(adapter)
        elif adapter is not None:
            account = None  # not a Mastodon-API client (a test double): not searched
            adapter.close()
    return bluesky, mastodon, account


def _save_budgets(
    bluesky: BlueskyPublic | None, mastodon: MastodonSearch | None, account: ConnectedAccount | None
) -> None:
    if bluesky is not None:
        SharedBudget.objects.update_or_create(
            pk=BLUESKY_BUDGET, defaults={"state": bluesky.budget.to_dict()}
        )
    if mastodon is not None and account is not None:
        account.budget = mastodon.budget.to_dict()
        account.save(update_fields=["budget", "updated_at"])


def _count_requests(run: DiscoveryRun, search: CachedSearch) -> None:
    """Move what the searches sent (and took from the cache) into the run's counts."""
    requests = dict(run.requests or {})
    for network, n in search.requests.items():
        requests[network] = requests.get(network, 0) + n
    run.requests = requests
    run.cached += search.cached
    search.requests = {k: 0 for k in search.requests}
    search.cached = 0


#: seconds before trying again when a server could not be reached
RETRY_UNAVAILABLE = 300.0


def run_discovery(
    migration: Migration,
    *,
    bluesky: BlueskyPublic | None = None,
    mastodon: MastodonSearch | None = None,
    batch: int = BATCH,
    max_batches: int | None = None,
    on_progress: Callable[[DiscoveryRun], None] | None = None,
) -> DiscoveryRun:
    """Search the accounts still to search, batch by batch; returns the run.

    Needs the person's consent (`start_discovery`). Stops early when a
    budget is spent (state `waiting`, `next_at` set) or after `max_batches`
    (tests kill it that way); calling it again resumes after the cursor.
    """
    run = DiscoveryRun.objects.filter(migration=migration).first()
    if run is None:
        raise PermissionError("Discovery has not been agreed to for this migration.")
    # answers older than a week are of no use to anyone any more
    PublicFinding.objects.filter(fetched_at__lt=timezone.now() - CACHE_FOR).delete()
    ours = bluesky is None  # a client we make, we close
    bluesky, mastodon, account = _searchers(migration, bluesky, mastodon)
    search = CachedSearch(bluesky=bluesky, mastodon=mastodon)
    now = timezone.now()
    DiscoveryRun.objects.filter(pk=run.pk).update(
        state=DiscoveryRun.State.RUNNING, started_at=run.started_at or now, next_at=None
    )
    run.refresh_from_db()
    pending = [n for n in named_accounts(migration) if run.cursor is None or n.x_id > run.cursor]
    batches = 0
    try:
        for start in range(0, len(pending), batch):
            if max_batches is not None and batches >= max_batches:
                return run
            chunk = pending[start : start + batch]
            found = _search_batch(search, chunk)
            rows = _candidates(migration, found, timezone.now())
            with transaction.atomic():
                DiscoveryCandidate.objects.bulk_create(rows, ignore_conflicts=True)
                _count_requests(run, search)
                run.cursor = chunk[-1].x_id
                run.searched += len(chunk)
                run.save(update_fields=["requests", "cursor", "searched", "cached", "updated_at"])
            _save_budgets(bluesky, mastodon, account)
            batches += 1
            if on_progress is not None:
                on_progress(run)
    except (RateLimited, Unavailable) as error:
        # A budget is spent, or a server is down for now: resume later, by itself.
        _save_budgets(bluesky, mastodon, account)
        _count_requests(run, search)
        wait = error.retry_after if isinstance(error, RateLimited) else RETRY_UNAVAILABLE
        run.state = DiscoveryRun.State.WAITING
        run.next_at = timezone.now() + timedelta(seconds=max(1.0, wait))
        run.error = error.message
        run.save(update_fields=["state", "next_at", "error", "requests", "cached", "updated_at"])
        return run
    except NetworkError as error:
        _save_budgets(bluesky, mastodon, account)
        _count_requests(run, search)
        run.state = DiscoveryRun.State.FAILED
        run.error = error.message
        run.save(update_fields=["state", "error", "requests", "cached", "updated_at"])
        return run
    finally:
        if ours and bluesky is not None:
            bluesky.close()
    run.state = DiscoveryRun.State.DONE
    run.finished_at = timezone.now()
    run.total = max(run.total, run.searched)
    run.error = " ".join(dict.fromkeys(search.problems))  # what could not be searched
    run.save(update_fields=["state", "finished_at", "total", "error", "updated_at"])
    return run


def _arrivals_consent(migration: Migration) -> bool:
    """The person's later-arrivals consent (follow people who arrive later)."""
    from hirondelle.identity.models import Consent

    return Consent.objects.filter(
        x_account_id=migration.x_account_id, auto_follow_arrivals=True
    ).exists()


def queue_discovery(migration: Migration, at: datetime | None = None) -> None:
    """Ask a worker to run (or resume) this migration's discovery at `at`."""
    from hirondelle.migration.tasks import discover_task

    task = discover_task.using(run_after=at) if at else discover_task
    transaction.on_commit(lambda: task.enqueue(migration.pk))


def schedule_rerun(migration: Migration) -> None:
    """The later-arrivals consent was just turned on: plan the next weekly search."""
    run = DiscoveryRun.objects.filter(migration=migration, state=DiscoveryRun.State.DONE).first()
    if run is not None and run.finished_at is not None:
        queue_discovery(migration, max(timezone.now(), run.finished_at + CACHE_FOR))


def run_discovery_locked(
    migration_id: int,
    *,
    on_progress: Callable[[DiscoveryRun], None] | None = None,
    **kwargs,
) -> DiscoveryRun | None:
    """The background task's body: one worker at a time per migration.

    A finished run starts again, for the accounts still unmatched, once its
    answers have left the cache (a week) and only while the person's
    later-arrivals consent is on. Returns None when there was nothing to do.
    """
    from hirondelle.config import get_settings

    now = timezone.now()
    run = DiscoveryRun.objects.select_related("migration").filter(migration_id=migration_id).first()
    if run is None:
        return None
    migration = run.migration
    if run.state == DiscoveryRun.State.DONE:
        if not _arrivals_consent(migration) or (
            run.finished_at and run.finished_at > now - CACHE_FOR
        ):
            return None
        total = sum(1 for _ in named_accounts(migration))
        DiscoveryRun.objects.filter(pk=run.pk).update(
            state=DiscoveryRun.State.QUEUED, cursor=None, searched=0, total=total, finished_at=None
        )
    lease = timedelta(seconds=get_settings().item_lock_seconds)
    taken = (
        DiscoveryRun.objects.filter(pk=run.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + lease)
    )
    if not taken:
        return None
    try:

        def renew(current: DiscoveryRun) -> None:
            DiscoveryRun.objects.filter(pk=run.pk).update(lease_until=timezone.now() + lease)
            if on_progress is not None:
                on_progress(current)

        run = run_discovery(migration, on_progress=renew, **kwargs)
    finally:
        DiscoveryRun.objects.filter(pk=run.pk).update(lease_until=None)
    if run.state == DiscoveryRun.State.DONE and _arrivals_consent(migration):
        queue_discovery(migration, timezone.now() + CACHE_FOR)
    return run


# --- what the pages and the command line show ------------------------------------


@dataclass
class Progress:
    state: str
    searched: int
    total: int
    requests: dict[str, int] = field(default_factory=dict)
    eta_seconds: float | None = None
    error: str = ""
    next_at: datetime | None = None

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.searched / self.total))


#: the budgets' pace, requests per second (Bluesky: 3,000 / 5 min; Mastodon: 300 / 5 min)
PACE = {"bluesky": 3000 / 300, "mastodon": 300 / 300}


def progress(migration: Migration) -> Progress | None:
    """Searched / total and an estimate of the time left, from the budgets' pace
    and the requests each account has cost so far."""
    run = DiscoveryRun.objects.filter(migration=migration).first()
    if run is None:
        return None
    left = max(0, run.total - run.searched)
    eta = None
    if run.state in (DiscoveryRun.State.QUEUED, DiscoveryRun.State.RUNNING, "waiting"):
        per_account = {
            n: (run.requests or {}).get(n, 0) / run.searched if run.searched else 3.0 for n in PACE
        }
        eta = max(left * per_account[n] / PACE[n] for n in PACE)
        if run.next_at:
            eta += max(0.0, (run.next_at - timezone.now()).total_seconds())
        elapsed = (timezone.now() - run.started_at).total_seconds() if run.started_at else 0
        if run.searched and elapsed:
            eta = max(eta, left * elapsed / run.searched)
    return Progress(
        state=run.state,
        searched=run.searched,
        total=run.total,
        requests=dict(run.requests or {}),
        eta_seconds=eta,
        error=run.error,
        next_at=run.next_at,
    )


def candidates_for(migration: Migration) -> list[DiscoveryCandidate]:
    """This person's candidates, strongest evidence first, then by X username."""
    rows = list(DiscoveryCandidate.objects.filter(migration=migration))
    rows.sort(key=lambda c: (-rules.strength(c.evidence), c.x_username.casefold(), c.network))
    return rows


def candidate_items(
    migration: Migration, account: ConnectedAccount, *, follow_back: bool, now: datetime
) -> list:
    """Plan items for the candidates the person keeps ticked, on this account's network.

    Each candidate becomes what its X account's place in the graph calls for
    (follow, block, mute; following back only when asked). Keys derive from
    the target, as for directory matches, so planning twice adds nothing.
    """
    from hirondelle.migration.models import Edge, PlanItem
    from hirondelle.migration.services.keys import item_key
    from hirondelle.migration.services.planning import DIRECTION_KIND

    picked = [
        c
        for c in DiscoveryCandidate.objects.filter(migration=migration, network=account.network)
        if c.selected
    ]
    if not picked:
        return []
    where: dict[int, list[str]] = {}
    for x_id, direction in Edge.objects.filter(
        migration=migration, gone_at=None, x_account_id__in={c.x_account_id for c in picked}
    ).values_list("x_account_id", "direction"):
        where.setdefault(x_id, []).append(Direction(direction).key)
    items = []
    for c in picked:
        for direction in where.get(c.x_account_id, []):
            if direction == "followers" and not follow_back:
                continue
            kind = DIRECTION_KIND[direction]
            items.append(
                PlanItem(
                    account=account,
                    kind=kind,
                    origin=(
                        PlanItem.Origin.FOLLOW_BACK
                        if direction == "followers"
                        else PlanItem.Origin.ARCHIVE
                    ),
                    x_id=str(x_id_from_db(c.x_account_id)),
                    target_id=c.account,
                    target_handle=c.handle,
                    key=item_key(account.pk, kind, c.account or c.handle),
                    next_attempt_at=now,
                )
            )
    return items


def choose(migration: Migration, shown: Iterable[int], picked: Iterable[int]) -> int:
    """Record the person's ticks on candidates shown on the page (by candidate id)."""
    from hirondelle.migration.models import PlanItem

    picked_set = {int(p) for p in picked}
    rows = list(DiscoveryCandidate.objects.filter(migration=migration, pk__in=list(shown)))
    for row in rows:
        row.chosen = row.pk in picked_set
    with transaction.atomic():
        DiscoveryCandidate.objects.bulk_update(rows, ["chosen"])
        # Already planned? An untick skips what is not done yet; a tick brings it back.
        for row in rows:
            items = PlanItem.objects.filter(
                account__user_id=migration.owner_id,
                account__network=row.network,
                x_id=str(x_id_from_db(row.x_account_id)),
                target_id=row.account,
            )
            if row.chosen:
                items.filter(state=PlanItem.State.SKIPPED).update(state=PlanItem.State.PENDING)
            else:
                items.filter(state=PlanItem.State.PENDING).update(state=PlanItem.State.SKIPPED)
    return len(rows)
