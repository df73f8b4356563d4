"""`hirondelle connect`, `accounts`, `disconnect`, `plan` and `run`."""

from __future__ import annotations

import json
import time

import click

from hirondelle.cli._django import ensure_database, local_user, setup_django
from hirondelle.config import get_settings


def _django() -> None:
    setup_django()
    ensure_database()


def _network_failure(what: str, error) -> click.ClickException:
    """One sentence: a connection error already says what could not be reached
    and why; nothing is retried once the command has exited."""
    from hirondelle.networks.errors import Unavailable

    if isinstance(error, Unavailable):
        return click.ClickException(error.message)
    return click.ClickException(f"{what}: {error.message}")


@click.group()
def connect() -> None:
    """Sign in to your new accounts, so Hirondelle can act on them.

    Credentials are stored encrypted in your data directory's database.
    """


@connect.command("mastodon")
@click.option(
    "--server",
    required=True,
    help="Your Mastodon (or compatible) server, e.g. https://mastodon.social",
)
@click.option(
    "--token",
    default=lambda: get_settings().mastodon_token or None,
    show_default="HIRONDELLE_MASTODON_TOKEN",
    help="An access token you created in your server's Development settings "
    "(scopes read, write, follow). Without it, Hirondelle opens an OAuth sign-in.",
)
def connect_mastodon(server: str, token: str | None) -> None:
    """Connect a Mastodon account (any server speaking the Mastodon API).

    \b
    Example:
        hirondelle connect mastodon --server https://piaille.fr
    """
    from hirondelle.networks.base import Network

    _django()
    from hirondelle.migration.services.accounts import connect_account
    from hirondelle.networks.errors import NetworkError

    server = server if server.startswith("http") else f"https://{server}"
    credentials: dict = {}
    try:
        if token:
            credentials = {"access_token": token}
        else:
            from hirondelle.networks.mastodon import auth

            app = auth.register_app(server)
            pkce = auth.new_pkce()
            click.echo("Open this address, sign in, and paste the code it shows:")
            click.echo(auth.authorization_url(app, pkce))
            code = click.prompt("Code").strip()
            token_data = auth.exchange_code(app, code, pkce)
            credentials = {
                "access_token": token_data.access_token,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            }
        account = connect_account(local_user(), Network.MASTODON, server, credentials)
    except NetworkError as e:
        raise _network_failure(f"Could not connect to {server}", e) from e
    click.echo(f"Connected {account.handle} on Mastodon.")


@connect.command("bluesky")
@click.option("--handle", required=True, help="Your Bluesky handle, e.g. alice.bsky.social")
@click.option(
    "--app-password",
    default=lambda: get_settings().bluesky_app_password or None,
    show_default="HIRONDELLE_BLUESKY_APP_PASSWORD",
    help="An app password (Settings → Privacy and security → App passwords). "
    "Never your main password. Asked for when not given.",
)
@click.option(
    "--pds",
    default="https://bsky.social",
    show_default=True,
    help="A server that knows your handle (your PDS, if it is not Bluesky's own). "
    "The password goes only to the PDS your account's DID document names.",
)
def connect_bluesky(handle: str, app_password: str | None, pds: str) -> None:
    """Connect a Bluesky account with an app password.

    The handle is resolved to its DID and DID document first (as the web
    page does): the password goes only to the PDS that document names, over
    HTTPS, never to a server merely typed here.

    \b
    Example:
        hirondelle connect bluesky --handle alice.bsky.social
    """
    from hirondelle.networks.base import Network

    if not app_password:
        app_password = click.prompt("App password", hide_input=True)

    _django()
    from hirondelle.migration.services.accounts import connect_account
    from hirondelle.networks.bluesky.oauth import OAuthError
    from hirondelle.networks.errors import NetworkError, why_unreachable
    from hirondelle.portal.services.signin import bluesky_identity

    handle = handle.strip().lstrip("@")
    try:
        identity = bluesky_identity(handle, pds.rstrip("/"))
    except OAuthError as e:
        if e.reason == "unreachable":
            raise click.ClickException(
                f"Could not reach the servers that say where {handle} lives ({pds}, then "
                f"its DID document's): {why_unreachable(e)}."
            ) from e
        if e.reason == "handle":
            raise click.ClickException(f"No Bluesky account answers to {handle}.") from e
        raise click.ClickException(
            f"What the servers say about {handle} does not hold together ({e.reason}): "
            "the password was sent nowhere."
        ) from e
    try:
        account = connect_account(
            local_user(),
            Network.BLUESKY,
            identity.pds,
            {"identifier": identity.handle or handle, "app_password": app_password},
        )
    except NetworkError as e:
        raise _network_failure(f"Could not sign in as {handle}", e) from e
    click.echo(f"Connected {account.handle} on Bluesky.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def accounts(as_json: bool) -> None:
    """List your connected accounts and how far their plans have come."""
    _django()
    from hirondelle.migration.services.progress import account_progress

    rows = [account_progress(a).as_dict() for a in local_user().connected_accounts.all()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No account connected yet: `hirondelle connect mastodon|bluesky`.")
    for row in rows:
        click.echo(f"{row['network']:9} {row['handle']:40} {row['status']:12} {_counts(row)}")
        _reasons(row)


def _counts(row: dict) -> str:
    """ "58 done, 2 failed, 0 skipped, 0 to do (of 60)": never "60/60 done" when two failed."""
    return (
        f"{row['done']} done, {row['failed']} failed, {row['skipped']} skipped, "
        f"{row['open']} to do (of {row['total']})"
    )


def _reasons(row: dict, echo=click.echo) -> None:
    for label, key in (("failed", "failures"), ("skipped", "skips")):
        for reason in row[key]:
            echo(f"  {reason['count']} {label}: {reason['reason']}")


@click.command()
@click.argument("handle")
def disconnect(handle: str) -> None:
    """Forget a connected account and revoke Hirondelle's access to it."""
    _django()
    from hirondelle.cli.match import pick_account
    from hirondelle.migration.services.accounts import disconnect_account

    account = pick_account(handle=handle)
    if disconnect_account(account):
        click.echo(f"Disconnected {handle}; the network revoked Hirondelle's access.")
    else:
        click.echo(
            f"Disconnected {handle}. Revoke the token in your account's settings too: "
            "Hirondelle could not do it for you."
        )


def _bar_counts(p) -> str:
    failed = f", {p.failed} failed" if p.failed else ""
    skipped = f", {p.skipped} skipped" if p.skipped else ""
    return f"{p.done} done{failed}{skipped} of {p.total}"


def _format_eta(seconds: float) -> str:
    if seconds <= 0:
        return "now"
    if seconds >= 2 * 86400:
        return f"{round(seconds / 86400)} days"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{max(1, rest // 60)} min"


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be done; change nothing.")
@click.option(
    "--background",
    is_flag=True,
    help="Queue the work for the background worker (`hirondelle serve` or "
    "`hirondelle worker`) and return at once.",
)
@click.option("--account", "handle", help="Only this connected account (its handle).")
def run(dry_run: bool, background: bool, handle: str | None) -> None:
    """Carry out the plan: follows, blocks, mutes, list entries and posts.

    Runs at the pace each network allows, and can be stopped at any time
    (Ctrl-C, closing the laptop, a crash): run it again and it resumes where it
    was, never doing anything twice.

    \b
    Example:
        hirondelle run --dry-run
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    _django()
    from hirondelle.migration.services.progress import account_progress
    from hirondelle.migration.services.running import run_until_idle
    from hirondelle.migration.tasks import schedule

    console = Console(stderr=True)
    accounts = list(local_user().connected_accounts.all())
    if handle:
        accounts = [a for a in accounts if a.handle == handle.lstrip("@")]
    if not accounts:
        raise click.ClickException("No connected account: `hirondelle connect mastodon|bluesky`.")
    if dry_run or background:
        for account in accounts:
            p = account_progress(account)
            console.print(
                f"{account.network} {account.handle}: {p.open} to do "
                f"({p.done} done, {p.failed} failed, {p.skipped} skipped), "
                f"about {_format_eta(p.eta_seconds)} at the network's pace",
                highlight=False,
            )
            if background and not dry_run:
                schedule(account)
        if background and not dry_run:
            console.print("Queued: the background worker carries on from here.")
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TextColumn("{task.fields[eta]}"),
        console=console,
    ) as bars:
        tasks = {}
        for account in accounts:
            p = account_progress(account)
            tasks[account.pk] = bars.add_task(
                f"{account.network} {account.handle}",
                total=p.total,
                completed=p.finished,
                counts=_bar_counts(p),
                eta="",
            )

        def on_progress(account, result) -> None:
            p = account_progress(account)
            wait = ""
            if result.next_wake:
                wait = f"next at {result.next_wake:%H:%M}, ETA {_format_eta(p.eta_seconds)}"
            if result.stopped:
                wait = f"stopped: {result.stopped}"
            if result.waiting_for:
                wait = f"waiting until {result.next_wake:%H:%M:%S}"
                bars.console.print(f"{account.network} {account.handle}: {result.waiting_for}")
            bars.update(
                tasks[account.pk],
                completed=p.finished,
                total=p.total,
                counts=_bar_counts(p),
                eta=wait,
            )

        try:
            run_until_idle(accounts, on_progress=on_progress, sleep=time.sleep)
        except KeyboardInterrupt:
            console.print("Stopped. Run `hirondelle run` again to resume.")
    # The bars count what is over; say what went well and what did not.
    for account in accounts:
        row = account_progress(account, with_eta=False).as_dict()
        console.print(f"{account.network} {account.handle}: {_counts(row)}", highlight=False)
        _reasons(row, lambda line: console.print(line, highlight=False, markup=False))


@click.command()
@click.option(
    "--follow-back",
    is_flag=True,
    help="Also follow the people who follow you on X and are on your new networks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would be planned on each network and how long it takes at the "
    "network's published limits; change nothing. Works before any account is connected.",
)
def plan(follow_back: bool, as_json: bool, dry_run: bool) -> None:
    """Turn the matches into a plan: follows, blocks and mutes to do, per account.

    Only matches at or above your trust level are planned; the others wait
    for your review on the web page. Planning again adds only what is new.

    \b
    Example:
        hirondelle plan --json
        hirondelle plan --dry-run
    """
    _django()
    from hirondelle.migration.models import Migration
    from hirondelle.migration.services.planning import build_plan, preview_plan

    user = local_user()
    migrations = list(Migration.objects.filter(owner=user))
    if not migrations:
        raise click.ClickException("Nothing imported yet: run `hirondelle import ARCHIVE` first.")
    if dry_run:
        previews = [
            p.as_dict() for m in migrations for p in preview_plan(m, follow_back=follow_back)
        ]
        if as_json:
            click.echo(json.dumps({"dry_run": True, "networks": previews}, indent=2))
            return
        for p in previews:
            where = ", ".join(p["accounts"]) or "no account connected yet"
            actions = ", ".join(f"{n} {kind}" for kind, n in sorted(p["actions"].items()))
            click.echo(
                f"{p['network']} ({where}): {actions or 'nothing to do'}"
                + (
                    f", about {_format_eta(p['eta_seconds'])} at the network's published limits"
                    if p["actions"]
                    else ""
                )
            )
            review = sum(p["review"].values())
            if review:
                click.echo(f"  {review} more found with weaker evidence: review them first.")
        click.echo("Nothing was planned (dry run).")
        return
    if not user.connected_accounts.exists():
        raise click.ClickException(
            "No account connected: run `hirondelle connect mastodon` or "
            "`hirondelle connect bluesky` first."
        )
    from hirondelle.migration.services.exports import write_mastodon_imports

    summaries = [build_plan(m, follow_back=follow_back).as_dict() for m in migrations]
    merged = {"accounts": [a for s in summaries for a in s["accounts"]]}
    imports = {}
    for account in user.connected_accounts.filter(network="mastodon"):
        files = write_mastodon_imports(account)
        if files:
            imports[account.handle] = files
    for row in merged["accounts"]:
        files = imports.get(row["handle"])
        row["importer_files"] = [str(f) for f in files.files] if files else []
    if as_json:
        click.echo(json.dumps(merged, indent=2))
        return
    for account in merged["accounts"]:
        total = account["total"]
        click.echo(
            f"{account['network']} {account['handle']}: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(total.items()))
            + (f" (+{sum(account['added'].values())} new)" if account["added"] else "")
        )
        if account["importer_files"]:
            click.echo("  " + imports[account["handle"]].message)
            for path in account["importer_files"]:
                click.echo(f"    {path}")
        review = sum(account["review"].values())
        if review:
            click.echo(f"  {review} more found with weaker evidence: review them on the web page.")
    click.echo("Next: `hirondelle run` (or --dry-run to see the pace first).")
