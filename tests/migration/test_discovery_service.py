"""The discovery service's running: paused by a budget and resumed, one worker
at a time, and again a week later for the people still unmatched when the
person's later-arrivals consent is on. The AppView here is an injected
transport (httpx.MockTransport) that counts what it is asked: these tests are
about the run's state, not the network (see test_discovery_search.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hirondelle.identity.models import XAccount
from hirondelle.identity.services.directory import set_consent
from hirondelle.migration.models import (
    ArchiveName,
    Direction,
    DiscoveryCandidate,
    DiscoveryRun,
    Edge,
    Migration,
)
from hirondelle.migration.services import discovery
from hirondelle.networks.search import BlueskyPublic
from hirondelle.networks.search._client import http_client

pytestmark = pytest.mark.django_db
N = 12


class AppView:
    """Answers like an AppView: person n's claimed account is `pn.test`; it can
    refuse (429) after a given number of requests."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.asked: Counter = Counter()
        self.fail_after = fail_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail_after is not None and sum(self.asked.values()) >= self.fail_after:
            self.fail_after = None
            return httpx.Response(429, headers={"retry-after": "60"}, json={"error": "RateLimit"})
        method = request.url.path.rsplit("/", 1)[-1]
        self.asked[method, str(request.url.query)] += 1
        if method == "app.bsky.actor.searchActors":
            q = request.url.params["q"]
            if not q.startswith("x"):
                return httpx.Response(200, json={"actors": []})
            n = int(q[1:])
            return httpx.Response(200, json={"actors": [self.view(n)]})
        actors = request.url.params.get_list("actors")
        return httpx.Response(200, json={"profiles": [self.view(int(a[-4:])) for a in actors]})

    @staticmethod
    def view(n: int) -> dict:
        return {
            "did": f"did:plc:{n:024d}",
            "handle": f"p{n}.test",
            "displayName": f"P {n}",
            "description": f"x.com/x{n}",
            "postsCount": 5,
            "createdAt": "2020-01-01T00:00:00Z",
        }


@pytest.fixture
def migration(django_user_model):
    person = django_user_model.objects.create(username="p")
    me = XAccount.objects.create(id=77, username="me")
    m = Migration.objects.create(owner=person, x_account=me)
    Edge.objects.bulk_create(
        Edge(migration=m, direction=Direction.FOLLOWING, x_account_id=1000 + n, generation=1)
        for n in range(N)
    )
    ArchiveName.objects.bulk_create(
        ArchiveName(
            migration=m,
            x_account_id=1000 + n,
            username=f"x{n}",
            display_name="",
            seen_at=timezone.now(),
            source="mention",
        )
        for n in range(N)
    )
    return m


def bluesky(view: AppView) -> BlueskyPublic:
    return BlueskyPublic(
        "http://appview.test", client=http_client(transport=httpx.MockTransport(view))
    )


def test_a_spent_budget_pauses_the_run_and_it_resumes_asking_nothing_twice(migration):
    view = AppView(fail_after=5)
    discovery.start_discovery(migration, consent=True)
    with bluesky(view) as b:
        run = discovery.run_discovery(migration, bluesky=b, batch=4)
    assert run.state == DiscoveryRun.State.WAITING
    assert run.next_at > timezone.now()
    assert run.searched == 4  # the first batch is recorded
    assert discovery.progress(migration).eta_seconds > 0
    with bluesky(view) as b:
        run = discovery.run_discovery(migration, bluesky=b, batch=4)
    assert run.state == DiscoveryRun.State.DONE
    assert run.searched == N
    assert max(view.asked.values()) == 1  # nothing asked twice, across the pause
    assert DiscoveryCandidate.objects.filter(migration=migration, preselected=True).count() == N
    # every request sent is counted, the one refused with a 429 too
    assert sum(run.requests.values()) == sum(view.asked.values()) + 1


def test_a_server_down_pauses_and_a_refused_name_does_not_stop_the_rest(migration):
    state = {"down": True}

    def flaky(request: httpx.Request) -> httpx.Response:
        if state["down"]:
            return httpx.Response(503, json={"error": "Unavailable"})
        if request.url.params.get("q") == "x3":
            return httpx.Response(400, json={"error": "InvalidRequest", "message": "bad"})
        return AppView()(request)

    discovery.start_discovery(migration, consent=True)
    with bluesky(flaky) as b:
        run = discovery.run_discovery(migration, bluesky=b)
    assert run.state == DiscoveryRun.State.WAITING  # resumes by itself, later
    assert run.next_at > timezone.now() + timedelta(minutes=4)
    state["down"] = False
    with bluesky(flaky) as b:
        run = discovery.run_discovery(migration, bluesky=b)
    assert run.state == DiscoveryRun.State.DONE
    found = set(DiscoveryCandidate.objects.values_list("x_account_id", flat=True))
    assert found == {1000 + n for n in range(N) if n != 3}


def test_one_worker_at_a_time(migration):
    discovery.start_discovery(migration, consent=True)
    DiscoveryRun.objects.filter(migration=migration).update(
        lease_until=timezone.now() + timedelta(minutes=1)
    )
    view = AppView()
    with bluesky(view) as b:
        assert discovery.run_discovery_locked(migration.pk, bluesky=b) is None
    assert not view.asked


def test_runs_again_a_week_later_only_with_the_later_arrivals_consent(
    migration, django_capture_on_commit_callbacks
):
    discovery.start_discovery(migration, consent=True)
    view = AppView()
    with django_capture_on_commit_callbacks(execute=True), bluesky(view) as b:
        run = discovery.run_discovery_locked(migration.pk, bluesky=b)
    assert run.state == DiscoveryRun.State.DONE
    assert not DBTaskResult.objects.exists()  # no consent: no second run planned
    set_consent(
        migration.x_account_id, findable=False, auto_followable=False, auto_follow_arrivals=True
    )
    # a finished run is not repeated within the week
    with bluesky(view) as b:
        assert discovery.run_discovery_locked(migration.pk, bluesky=b) is None
    # a week later it runs again, for the people still not found
    DiscoveryRun.objects.filter(migration=migration).update(
        finished_at=timezone.now() - discovery.CACHE_FOR - timedelta(minutes=1)
    )
    Edge.objects.create(
        migration=migration, direction=Direction.FOLLOWING, x_account_id=1000 + N, generation=2
    )
    ArchiveName.objects.create(
        migration=migration,
        x_account_id=1000 + N,
        username=f"x{N}",
        seen_at=timezone.now(),
        source="reply",
    )
    with django_capture_on_commit_callbacks(execute=True), bluesky(view) as b:
        again = discovery.run_discovery_locked(migration.pk, bluesky=b)
    assert again.state == DiscoveryRun.State.DONE
    assert again.total == N + 1
    assert DiscoveryCandidate.objects.filter(migration=migration).count() == N + 1
    (task,) = DBTaskResult.objects.all()
    assert task.task_path.endswith("discover_task")
    assert task.run_after > timezone.now() + timedelta(days=6)


def test_someone_the_directory_knows_is_not_searched_on_that_network(migration):
    from hirondelle.identity.services.directory import assert_link

    assert_link(1003, "bluesky", "known.test", "did:plc:known", evidence="domain", asserted_by="t")
    set_consent(1003, findable=True, auto_followable=True, auto_follow_arrivals=False)
    view = AppView()
    discovery.start_discovery(migration, consent=True)
    with bluesky(view) as b:
        run = discovery.run_discovery(migration, bluesky=b)
    assert run.total == N  # still to be searched on the fediverse
    assert not any("x3" in query for _, query in view.asked)
    assert not DiscoveryCandidate.objects.filter(x_account_id=1003).exists()


def test_what_is_ticked_is_planned_and_an_untick_skips_it(migration):
    from hirondelle.migration.models import ConnectedAccount, PlanItem
    from hirondelle.migration.services.planning import build_plan

    account = ConnectedAccount.objects.create(
        user=migration.owner,
        network="bluesky",
        server="https://pds.example",
        handle="me.test",
        remote_id="did:plc:me",
        credentials={"app_password": "p"},
    )
    discovery.start_discovery(migration, consent=True)
    with bluesky(AppView()) as b:
        discovery.run_discovery(migration, bluesky=b)
    build_plan(migration, accounts=[account])
    items = PlanItem.objects.filter(account=account, kind="follow")
    assert items.count() == N
    assert {i.target_handle for i in items} == {f"p{n}.test" for n in range(N)}
    first = DiscoveryCandidate.objects.get(x_account_id=1000)
    discovery.choose(migration, shown=[first.pk], picked=[])
    assert items.get(x_id="1000").state == PlanItem.State.SKIPPED
    build_plan(migration, accounts=[account])  # planning again does not bring it back
    assert items.get(x_id="1000").state == PlanItem.State.SKIPPED
    discovery.choose(migration, shown=[first.pk], picked=[first.pk])
    assert items.get(x_id="1000").state == PlanItem.State.PENDING


def test_turning_on_later_arrivals_plans_the_next_weekly_search(
    migration, django_capture_on_commit_callbacks
):
    from hirondelle.portal.services.consent import save_consent

    discovery.start_discovery(migration, consent=True)
    with bluesky(AppView()) as b:
        run = discovery.run_discovery(migration, bluesky=b)
    with django_capture_on_commit_callbacks(execute=True):
        save_consent(
            migration.owner,
            migration,
            findable=False,
            auto_followable=False,
            auto_follow_arrivals=True,
        )
    (task,) = DBTaskResult.objects.filter(task_path__endswith="discover_task")
    assert abs((task.run_after - (run.finished_at + discovery.CACHE_FOR)).total_seconds()) < 5


def test_the_command_line_does_not_search_beside_a_running_worker():
    from click.testing import CliRunner

    from hirondelle.cli import main
    from hirondelle.cli._django import local_user

    person = local_user()
    me = XAccount.objects.create(id=78, username="me2")
    m = Migration.objects.create(owner=person, x_account=me)
    discovery.start_discovery(m, consent=True)
    DiscoveryRun.objects.filter(migration=m).update(
        lease_until=timezone.now() + timedelta(minutes=2)
    )
    out = CliRunner().invoke(main, ["discover", "--search", "--json"])
    assert out.exit_code == 1
    assert "Another search for this archive is running" in out.output
