"""The background worker: runs queued tasks from the database.

The queue only says "advance this plan now"; the state of every item lives in
its own row. One worker thread runs inside `hirondelle serve` on a laptop
(SQLite allows one writer); a portal runs many `hirondelle worker` processes.
"""

from __future__ import annotations

import threading
import time

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

__all__ = ["BackgroundWorker", "web_activity"]


class _WebActivity:
    """Requests in progress in this process, so an in-process worker can let
    the page go first: on a laptop, one process and one GIL serve both."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = threading.Condition()

    def enter(self) -> None:
        with self._idle:
            self._active += 1

    def leave(self) -> None:
        with self._idle:
            self._active -= 1
            if not self._active:
                self._idle.notify_all()

    def wait_idle(self, at_most: float) -> None:
        """Return once no request is in progress, or after `at_most` seconds,
        so background work is slowed by a busy page, never stopped."""
        with self._idle:
            self._idle.wait_for(lambda: not self._active, timeout=at_most)


web_activity = _WebActivity()


class _PoliteWorker(Worker):
    """Waits for the page to be idle (a little) before each task."""

    at_most = 2.0

    def run_task(self, db_task_result) -> None:
        web_activity.wait_idle(self.at_most)
        super().run_task(db_task_result)


class BackgroundWorker:
    """django-tasks-db's worker, stoppable from another thread.

    It installs no signal handler, so it can run inside a web server's process
    and on any platform; Ctrl-C in the foreground reaches `run()` as
    KeyboardInterrupt and stops it between tasks.
    """

    def __init__(
        self,
        *,
        interval: float = 0.5,
        queue_names: tuple[str, ...] = ("*",),
        page_first: bool = False,
    ) -> None:
        # page_first: inside `hirondelle serve`, let web requests go first.
        worker_class = _PoliteWorker if page_first else Worker
        self._worker = worker_class(
            queue_names=list(queue_names),
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        self._thread: threading.Thread | None = None

    def run(self, *, run_for: float | None = None) -> None:
        """Run in the foreground until stopped (or for `run_for` seconds)."""
        timer = threading.Timer(run_for, self.stop) if run_for else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            self._worker.run()
        except KeyboardInterrupt:
            self.stop()
        finally:
            if timer:
                timer.cancel()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="hirondelle-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._worker.running = False
        if self._thread and self._thread is not threading.current_thread():
            deadline = time.monotonic() + timeout
            self._thread.join(max(0.0, deadline - time.monotonic()))
