"""The worker inside `hirondelle serve` lets the page go first, and a busy
page slows background work without stopping it."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from hirondelle.migration.worker import _PoliteWorker, _WebActivity, web_activity


def test_waits_for_requests_in_progress_then_goes():
    activity = _WebActivity()
    activity.enter()
    order: list[str] = []
    waiter = threading.Thread(target=lambda: (activity.wait_idle(60), order.append("task")))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # a request is in progress: the task waits
    order.append("request done")
    activity.leave()
    waiter.join(10)
    assert order == ["request done", "task"]


def test_a_page_that_is_never_idle_only_delays_the_task():
    activity = _WebActivity()
    activity.enter()  # never leaves
    done = threading.Event()
    threading.Thread(target=lambda: (activity.wait_idle(0.05), done.set())).start()
    assert done.wait(10)


def test_nested_requests_count_until_the_last_one_ends():
    activity = _WebActivity()
    activity.enter()
    activity.enter()
    activity.leave()
    released = threading.Event()
    threading.Thread(target=lambda: (activity.wait_idle(60), released.set())).start()
    assert not released.wait(0.2)
    activity.leave()
    assert released.wait(10)


@pytest.mark.django_db
def test_every_request_is_counted_while_it_runs(monkeypatch):
    seen: list[int] = []
    import importlib

    home_module = importlib.import_module("hirondelle.portal.views.home")

    real = home_module.render

    def spy(*args, **kwargs):
        seen.append(web_activity._active)
        return real(*args, **kwargs)

    monkeypatch.setattr(home_module, "render", spy)
    before = web_activity._active
    assert Client().get("/").status_code == 200
    assert seen == [before + 1]
    assert web_activity._active == before


def test_the_polite_worker_waits_before_each_task(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(web_activity, "wait_idle", lambda at_most: calls.append("wait"))
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.Worker.run_task",
        lambda self, result: calls.append("run"),
    )
    _PoliteWorker.run_task(object.__new__(_PoliteWorker), None)
    assert calls == ["wait", "run"]
