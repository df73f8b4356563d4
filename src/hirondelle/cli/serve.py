"""`hirondelle serve`, `hirondelle worker` and `hirondelle migrate`."""

from __future__ import annotations

import threading
import webbrowser

import click

from hirondelle.cli._django import ensure_database, setup_django
from hirondelle.config import get_settings


@click.command()
@click.option(
    "-h",
    "--host",
    default=lambda: get_settings().host,
    show_default="127.0.0.1, or HIRONDELLE_HOST",
    help="Address to listen on. The default keeps the page private to this "
    "machine; use 0.0.0.0 behind a reverse proxy to serve a portal.",
)
@click.option(
    "-p",
    "--port",
    default=lambda: get_settings().port,
    show_default="8000, or HIRONDELLE_PORT",
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run the background worker in this process. A portal runs separate "
    "`hirondelle worker` processes and passes --no-worker.",
)
@click.option("-o", "--open", "open_browser", is_flag=True, help="Open the page in a browser.")
def serve(host: str, port: int, worker: bool, open_browser: bool) -> None:
    """Start the web page (and, by default, the background worker).

    \b
    Example:
        hirondelle serve --port 8080
    """
    import uvicorn

    setup_django()
    ensure_database()
    from hirondelle.migration.worker import BackgroundWorker

    background = BackgroundWorker(page_first=True) if worker else None
    if background:
        background.start()
    url = f"http://{host}:{port}/"
    click.echo(f"Hirondelle is running on {url} (Ctrl-C to stop).")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        uvicorn.run("hirondelle.asgi:application", host=host, port=port, log_level="warning")
    finally:
        if background:
            background.stop()


@click.command()
@click.option(
    "--run-for",
    type=float,
    default=None,
    help="Stop after this many seconds (for cron and tests).",
)
def worker(run_for: float | None) -> None:
    """Run background work: reconnections, republishing, directory updates.

    A portal runs several of these against PostgreSQL; they share one queue
    and never carry out the same item twice.

    \b
    Example:
        HIRONDELLE_DATABASE_URL=postgres://… hirondelle worker
    """
    setup_django()
    ensure_database()
    from hirondelle.migration.worker import BackgroundWorker

    BackgroundWorker().run(run_for=run_for)


@click.command()
def migrate() -> None:
    """Create or update the database tables (a portal runs this on upgrade)."""
    from django.core.management import call_command

    setup_django()
    call_command("migrate", interactive=False)
    call_command("createcachetable")  # rate limits shared by a portal's web processes
