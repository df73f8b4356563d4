"""`hirondelle institution …`: an official address for each of an institution's people."""

from __future__ import annotations

from pathlib import Path

import click

from hirondelle.cli._django import ensure_database, setup_django
from hirondelle.config import get_settings


def _django() -> None:
    setup_django()
    ensure_database()


def _get(slug: str):
    from hirondelle.institutions.models import Institution

    institution = Institution.objects.filter(slug=slug).first()
    if institution is None:
        raise click.ClickException(
            f"No institution {slug!r}: create it with `hirondelle institution add {slug} NAME`."
        )
    return institution


def _errors():
    from hirondelle.institutions.services.errors import InstitutionError
    from hirondelle.networks.errors import NetworkError

    return (InstitutionError, NetworkError)


@click.group()
def institution() -> None:
    """Give an institution's people official addresses on its own servers.

    \b
    In order:
        hirondelle institution add assemblee "Assemblée" --handle-domain deputes.example.fr
        hirondelle institution server assemblee pds https://pds.example.fr .social.example.fr \\
            --admin-password … --bypass-key …
        hirondelle institution roster assemblee roster.csv --check
        hirondelle institution provision assemblee --dry-run
        hirondelle institution provision assemblee
        hirondelle institution invite assemblee
        hirondelle institution handles assemblee
        hirondelle institution verify assemblee --appview-wait 120
        hirondelle institution history assemblee --network fediverse
        hirondelle institution pages assemblee ./site
        hirondelle institution publish assemblee
    """


@institution.command()
@click.argument("slug")
@click.argument("name")
@click.option("--handle-domain", default="", help="Domain for full-name handles (name.DOMAIN).")
@click.option("--page-url", default="", help="https address where the rel=me page is published.")
def add(slug: str, name: str, handle_domain: str, page_url: str) -> None:
    """Declare an institution (or update its name and domains)."""
    _django()
    from hirondelle.institutions.services.setup import add_institution

    try:
        inst = add_institution(slug, name, handle_domain=handle_domain, page_url=page_url)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{inst.name} ({inst.slug}) is ready; add its servers next.")


@institution.command()
@click.argument("slug")
@click.argument("kind", type=click.Choice(["pds", "gotosocial", "mastodon"]))
@click.argument("url")
@click.argument("domain")
@click.option(
    "--admin-password",
    default=lambda: get_settings().pds_admin_password,
    show_default="HIRONDELLE_PDS_ADMIN_PASSWORD",
    help="PDS_ADMIN_PASSWORD of the PDS (stored encrypted).",
)
@click.option(
    "--bypass-key",
    default=lambda: get_settings().pds_bypass_key,
    show_default="HIRONDELLE_PDS_BYPASS_KEY",
    help="PDS_RATE_LIMIT_BYPASS_KEY of the PDS, if set (stored encrypted).",
)
@click.option(
    "--admin-token",
    default=lambda: get_settings().fedi_admin_token,
    show_default="HIRONDELLE_FEDI_ADMIN_TOKEN",
    help="An admin's access token on the GoToSocial/Mastodon server (encrypted).",
)
@click.option("--app-token", default="", help="An application token for registrations.")
@click.option("--invite-code", default="", help="The server's invite code for registrations.")
def server(
    slug, kind, url, domain, admin_password, bypass_key, admin_token, app_token, invite_code
):
    """Add or update one of the institution's servers and its admin credentials.

    DOMAIN is the PDS's handle domain (.social.example.fr) or the fediverse
    account domain (social.example.fr). Secrets can come from the environment.
    """
    _django()
    from hirondelle.institutions.services.setup import set_server

    creds = {
        "admin_password": admin_password,
        "bypass_key": bypass_key,
        "admin_token": admin_token,
        "app_token": app_token,
        "invite_code": invite_code,
    }
    try:
        srv = set_server(_get(slug), kind, url, domain, credentials=creds)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{srv.kind} server {srv.url} saved (credentials encrypted).")


@institution.command()
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check the file; change nothing.")
def roster(slug: str, file: Path, check: bool) -> None:
    """Check, then load, the roster CSV (name, x_id, x_username, email, group, …)."""
    _django()
    from hirondelle.institutions.services.roster import check_roster, load_roster

    text = file.read_text(encoding="utf-8-sig")
    result = check_roster(text)
    for error in result.errors[:50]:
        click.echo(error, err=True)
    if not result.ok:
        raise click.ClickException(f"{len(result.errors)} problem(s) in {file}; nothing loaded.")
    groups = ", ".join(f"{g or '(none)'}: {n}" for g, n in sorted(result.groups().items()))
    click.echo(f"{len(result.rows)} officials. Groups: {groups}.")
    if check:
        return
    try:
        created, updated = load_roster(_get(slug), text)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Loaded: {created} new, {updated} updated.")


@institution.command()
@click.argument("slug")
@click.option("--dry-run", is_flag=True, help="Print every call it would make; change nothing.")
@click.option(
    "--network",
    type=click.Choice(["bluesky", "fediverse", "all"]),
    default="all",
    help="Which side to provision (both by default).",
)
def provision(slug: str, dry_run: bool, network: str) -> None:
    """Adopt or create every official's accounts, verify them, build the starter packs.

    Stops cleanly at any moment; run it again to resume (nothing is made twice).
    """
    _django()
    from hirondelle.institutions.models import Server
    from hirondelle.institutions.services import bluesky, fediverse

    inst = _get(slug)
    try:
        if network in ("bluesky", "all") and inst.server(Server.Kind.PDS):
            report = bluesky.provision(inst, dry_run=dry_run)
            for warning in report.warnings:
                click.secho(f"! {warning}", fg="yellow", err=True)
            if dry_run:
                for call in report.calls:
                    click.echo(call)
                click.echo(f"{len(report.calls)} writes would be made (reads are done for real).")
            else:
                if inst.handle_domain:
                    from hirondelle.institutions.services import full_name_handles

                    full_name_handles.schedule(inst)  # switched in the background once resolved
                click.echo(
                    f"Bluesky: {report.created} created, {report.adopted} adopted, "
                    f"{report.verifications_written} verified, "
                    f"{report.verifications_rewritten} re-verified, {report.packs} starter packs; "
                    f"{report.request_count} requests; institution account spent "
                    f"{max(report.points.values(), default=0)} write points."
                )
        fedi = inst.servers.filter(kind__in=["gotosocial", "mastodon"]).exists()
        if network in ("fediverse", "all") and fedi:
            if dry_run:
                for warning in fediverse.budget_warnings(inst):
                    click.secho(f"! {warning}", fg="yellow", err=True)
                calls = fediverse.planned_calls(inst)
                for call in calls:
                    click.echo(call)
                click.echo(f"{len(calls)} fediverse calls would be made.")
                return
            freport = fediverse.provision(inst)
            for warning in freport.warnings:
                click.secho(f"! {warning}", fg="yellow", err=True)
            click.echo(
                f"Fediverse: {freport.registered} registered, {freport.approved} approved, "
                f"{freport.adopted} adopted, {freport.profiles} profiles pointed at the page, "
                f"{freport.waiting} waiting for their owner to confirm the e-mail."
            )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc


@institution.command()
@click.argument("slug")
def invite(slug: str) -> None:
    """Have the PDS e-mail each new account's owner the code to claim it.

    Without the PDS's bypass key the PDS sends 15 an hour and 50 a day: what it
    accepts now goes at once, the rest in the background (`hirondelle serve` or
    `hirondelle worker`) at that pace, each official once.
    """
    _django()
    from hirondelle.institutions.services import invites

    inst = _get(slug)
    try:
        result = invites.send_due(inst)
        click.echo(f"{result.sent} claim e-mails sent by the PDS.")
        if result.failed:
            click.echo(f"{result.failed} refused by the PDS (see the audit log).", err=True)
        if result.next_at is not None:
            duration = invites.expected_duration(inst)
            invites.schedule(inst, result.next_at)
            click.echo(
                f"{result.left} left, sent in the background at the PDS's pace: the next at "
                f"{result.next_at:%Y-%m-%d %H:%M} UTC, the last in {invites._words(duration)}. "
                "Keep `hirondelle worker` (or `hirondelle serve`) running; stopping is safe."
            )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc


@institution.command()
@click.argument("slug")
@click.argument("x_usernames", nargs=-1)
@click.option(
    "--network",
    type=click.Choice(["bluesky", "fediverse"]),
    required=True,
    help="Where to republish: the institution's PDS, or its GoToSocial/Mastodon server.",
)
def history(slug: str, x_usernames: tuple[str, ...], network: str) -> None:
    """Republish the officials' own posts from the archives they uploaded on the portal.

    Only an official's own archive is used (uploading it is their consent);
    own posts and threads only. The background worker publishes them at the
    network's pace; run it again at any time, nothing is planned twice.
    """
    _django()
    from hirondelle.institutions.services.history import plan_histories

    try:
        plans = plan_histories(
            _get(slug),
            network="mastodon" if network == "fediverse" else "bluesky",
            x_usernames=list(x_usernames) or None,
        )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc
    for p in plans:
        if p.summary is None:
            click.echo(f"  {p.official.name}: {p.reason}")
        else:
            click.echo(
                f"  {p.official.name}: {p.summary.posts} posts ({p.summary.parts} parts), "
                f"{p.summary.added} new"
            )
    planned = sum(1 for p in plans if p.summary is not None)
    click.echo(
        f"History planned for {planned} of {len(plans)} officials; `hirondelle worker` "
        "(or `serve`) publishes it; `institution status` shows when it is done."
    )


@institution.command()
@click.argument("slug")
def status(slug: str) -> None:
    """Per official: invited, claimed, history imported, verified."""
    _django()
    from hirondelle.institutions.services.history import refresh_histories
    from hirondelle.institutions.services.status import fediverse_step
    from hirondelle.institutions.services.status import status as get_status

    inst = _get(slug)
    refresh_histories(inst)
    s = get_status(inst)
    click.echo(f"{inst.name}: {s.total} officials, {s.arrived} arrived.")
    click.echo("Bluesky: " + ", ".join(f"{k} {v}" for k, v in sorted(s.bluesky.items())))
    click.echo("Fediverse: " + ", ".join(f"{k} {v}" for k, v in sorted(s.fediverse.items())))
    if inst.servers.filter(kind__in=["gotosocial", "mastodon"]).exists():
        approved = sum(s.fediverse[k] for k in ("approved", "claimed"))
        click.echo(
            f"Fediverse approval: {approved} approved, {s.fedi_awaiting_approval} awaiting "
            f"the server admin's approval, {s.fedi_awaiting_email} awaiting the official's "
            "e-mail confirmation."
        )
    click.echo(
        f"Verified: {s.bluesky_verified} on Bluesky, {s.relme_verified} by rel=me; "
        f"history imported: {s.history_imported}."
    )
    if s.appview:
        click.echo(
            "As the AppView shows it: "
            + ", ".join(f"{k} {v}" for k, v in sorted(s.appview.items()))
            + " (`hirondelle institution verify` reads it again)."
        )
    click.echo(
        f"Claim e-mails: {s.invited} sent, {s.to_invite} to send"
        + (
            f", {s.invite_uncertain} interrupted (they ask for a new code on "
            f"/institutions/{inst.slug}/claim/)"
            if s.invite_uncertain
            else ""
        )
        + "."
    )
    if s.full_name_handles or s.full_name_waiting:
        click.echo(
            f"Full-name handles: {s.full_name_handles} in use, {s.full_name_waiting} waiting "
            "(`hirondelle institution handles` tries again)."
        )
    for o in inst.officials.order_by("name", "pk"):
        click.echo(
            f"  {o.name:<32} {o.bluesky_state:<9} {o.bluesky_handle or '-':<36} "
            f"{o.fediverse_state:<10} {'✓' if o.bluesky_verified else '·'}"
            f"{'✓' if o.relme_verified else '·'}"
            + (f"  {fediverse_step(o)}" if o.fediverse_state != "pending" else "")
        )
        if o.second_handle_problem and not o.second_handle_at:
            click.echo(f"      {o.second_handle}: {o.second_handle_problem}")


@institution.command()
@click.argument("slug")
@click.option(
    "--appview",
    default="",
    show_default="HIRONDELLE_BLUESKY_APPVIEW_URL",
    help="The AppView to read verifications and packs back from.",
)
@click.option(
    "--appview-wait",
    type=float,
    default=0.0,
    help="Read verifications and packs back from the AppView, waiting up to this many "
    "seconds for it to index them (e.g. 120; 0, the default: do not read back).",
)
def verify(slug: str, appview: str, appview_wait: float) -> None:
    """Rewrite stale Bluesky verifications, read them back as citizens see them (the
    AppView), and run Mastodon's rel=me check on the page."""
    _django()
    from hirondelle.institutions.services import bluesky, publish

    inst = _get(slug)
    try:
        if inst.server("pds"):
            claimed = bluesky.detect_claims(inst)
            click.echo(f"Bluesky: {claimed} accounts newly claimed by their owners.")
            report = bluesky.refresh_verifications(inst)
            click.echo(
                f"Bluesky: {report.verifications_written} written, "
                f"{report.verifications_rewritten} rewritten."
            )
            if appview_wait:
                from hirondelle.institutions.services.appview import check_appview

                seen = check_appview(inst, appview_url=appview, timeout=appview_wait)
                click.echo(
                    "Bluesky, as the AppView shows it: "
                    + ", ".join(f"{k} {v}" for k, v in sorted(seen.verification.items()))
                    + f"; {seen.packs_seen} packs and lists in full."
                )
                for warning in seen.warnings:
                    click.secho(f"! {warning}", fg="yellow", err=True)
        if inst.page_url:
            click.echo(
                f"rel=me: {publish.verify_relme(inst)} profiles verified by {inst.page_url}."
            )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc


@institution.command()
@click.argument("slug")
def handles(slug: str) -> None:
    """Switch officials to their full-name handle wherever it resolves to them now.

    Run it again after DNS changes: it only switches the ones not done, and says
    for each of the others what is missing.
    """
    _django()
    from django.utils import timezone

    from hirondelle.institutions.services.full_name_handles import switch_handles

    try:
        report = switch_handles(_get(slug))
    except _errors() as exc:
        raise click.ClickException(str(exc)) from exc
    for handle in report.switched:
        click.echo(f"✓ {handle}")
    for name, why in report.waiting.items():
        click.echo(f"· {name}: {why}", err=True)
    click.echo(
        f"{len(report.switched)} switched now, {report.already} already, "
        f"{len(report.waiting)} waiting; {report.verifications_rewritten} verifications rewritten."
    )
    if report.waiting:
        from hirondelle.institutions.services.full_name_handles import RETRY_EVERY, schedule

        schedule(_get(slug), timezone.now() + RETRY_EVERY)
        click.echo(
            "The waiting ones are tried again every hour in the background "
            "(`hirondelle worker` or `hirondelle serve`), for two weeks."
        )


@institution.command()
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def pages(slug: str, directory: Path) -> None:
    """Write the rel=me page, the importer CSV and the DNS records for the institution's site."""
    _django()
    from hirondelle.institutions.services import publish
    from hirondelle.networks.institution.handles import dns_txt_record

    inst = _get(slug)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "officiels.html").write_text(publish.relme_page(inst), encoding="utf-8")
    (directory / f"{inst.slug}-following.csv").write_text(publish.importer_csv(inst), "utf-8")
    records = [
        dns_txt_record(o.second_handle, o.bluesky_did)
        for o in inst.officials.exclude(second_handle="").exclude(bluesky_did="")
    ]
    (directory / "atproto-dns.txt").write_text("\n".join(records) + "\n", encoding="utf-8")
    click.echo(
        f"Wrote officiels.html (publish it at {inst.page_url or 'your https page address'}), "
        f"{inst.slug}-following.csv and atproto-dns.txt ({len(records)} TXT records) "
        f"in {directory}."
    )


@institution.command()
@click.argument("slug")
def publish(slug: str) -> None:
    """Put every official's new addresses in the directory at `roster` strength."""
    _django()
    from hirondelle.institutions.services.publish import publish_links

    stats = publish_links(_get(slug))
    click.echo(f"Directory: {stats.created} links added, {stats.strengthened} strengthened.")


@institution.command()
@click.argument("slug")
def tootctl(slug: str) -> None:
    """Print the tootctl commands that create the remaining Mastodon accounts on the server."""
    _django()
    from hirondelle.institutions.services.fediverse import tootctl_script

    click.echo(tootctl_script(_get(slug)), nl=False)
