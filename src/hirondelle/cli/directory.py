"""`hirondelle directory …`: signed snapshots, trusted publishers, rosters, links, consent."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hirondelle.cli._django import EVIDENCE_NAMES, ensure_database, local_user, setup_django

_EVIDENCE = click.Choice(EVIDENCE_NAMES)


def _django() -> None:
    setup_django()
    ensure_database()


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def directory() -> None:
    """The directory of who moved where: share it signed, import others', trust publishers.

    Matching happens on this machine: import the snapshots of portals and
    institutions you trust, and your graph never has to leave it.
    """


@directory.command()
@click.option("--name", required=True, help="Publisher name shown to people who import.")
@click.option("--replace", is_flag=True, help="Replace an existing signing key.")
def keygen(name: str, replace: bool) -> None:
    """Create the Ed25519 key your snapshots are signed with.

    The private key stays in your data directory (readable by you only);
    give the printed public key to the people who will import your snapshots.

    \b
    Example:
        hirondelle directory keygen --name "Le Monde"
    """
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.keys import generate_signing_key

    try:
        key = generate_signing_key(name, replace=replace)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    click.echo(f"Signing key for {key.name!r} created. Public key (share it):")
    click.echo(key.public_b64)


@directory.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_(file: Path) -> None:
    """Write the consented links as a signed snapshot (FILE and FILE.sig).

    Only links whose owners agreed to be findable are written.

    \b
    Example:
        hirondelle directory export directory-2026-05.jsonl
    """
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.snapshots import export_snapshot

    try:
        result = export_snapshot(file)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"Wrote {result.lines:,} links to {result.path}, signed by {result.publisher!r} "
        f"in {result.signature_path}."
    )


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--signature",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The detached signature (default: FILE.sig).",
)
def import_(file: Path, signature: Path | None) -> None:
    """Verify a snapshot against the publishers you trust, then merge its links.

    A snapshot that was changed after signing, or signed by a key you do
    not trust, is refused whole.

    \b
    Example:
        hirondelle directory trust "Portail" Zm9v…
        hirondelle directory import portail-2026-05.jsonl
    """
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.snapshots import import_snapshot

    try:
        result = import_snapshot(file, signature=signature)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    s = result.stats
    click.echo(
        f"Verified {result.path} (signed by {result.publisher!r}): {result.lines:,} links, "
        f"{s.created:,} new, {s.strengthened:,} strengthened, {s.unchanged:,} already known."
    )


@directory.command()
@click.argument("name")
@click.argument("public_key")
@click.option("--note", default="", help="Why you trust this publisher.")
def trust(name: str, public_key: str, note: str) -> None:
    """Accept snapshots signed by PUBLIC_KEY, published by NAME.

    \b
    Example:
        hirondelle directory trust "Le Monde" Zm9vYmFy…=
    """
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.keys import trust_publisher

    try:
        trust_publisher(name, public_key, note=note)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    click.echo(f"Snapshots signed by {name!r} will be accepted.")


@directory.command()
@click.argument("name")
def untrust(name: str) -> None:
    """Refuse NAME's snapshots from now on."""
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.keys import untrust_publisher

    try:
        untrust_publisher(name)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    click.echo(f"Snapshots signed by {name!r} will be refused.")


@directory.command()
def keys() -> None:
    """List the publisher keys you trust (and those you stopped trusting)."""
    _django()
    from hirondelle.identity.models import PublisherKey

    rows = PublisherKey.objects.order_by("name")
    if not rows:
        click.echo("No publisher keys yet: `hirondelle directory trust NAME KEY` adds one.")
    for key in rows:
        state = "trusted" if key.trusted else "refused"
        click.echo(f"{key.name}\t{key.public_key}\t{state}")


@directory.command()
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--institution", required=True, help="Who publishes these accounts.")
@click.option(
    "--auto-followable",
    is_flag=True,
    help="These accounts agree to be followed automatically by people arriving later.",
)
def roster(csv_file: Path, institution: str, auto_followable: bool) -> None:
    """Publish an institution's official accounts from a CSV.

    Columns: x_id (or x_username of an account already known here), then
    fediverse (user@host) and/or bluesky (handle); optionally fediverse_id
    (actor URI) and bluesky_did.

    \b
    Example:
        hirondelle directory roster comptes.csv --institution "Ville de Lyon"
    """
    _django()
    from hirondelle.identity.services.errors import DirectoryError
    from hirondelle.identity.services.roster import import_roster

    try:
        result = import_roster(csv_file, institution=institution, auto_followable=auto_followable)
    except DirectoryError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"Published {result.accounts:,} accounts of {result.institution} "
        f"({result.stats.created:,} new links, {result.stats.strengthened:,} strengthened)."
    )


@directory.command()
@click.argument("x_id")
@click.argument("network", type=click.Choice(["mastodon", "bluesky"]))
@click.argument("handle")
@click.option("--id", "uri", default="", help="Actor URI (Mastodon) or DID (Bluesky), if known.")
@click.option(
    "--evidence",
    type=_EVIDENCE,
    default="self",
    show_default=True,
    help="What proves the link: x_oauth, roster, domain, bridge or self (weakest).",
)
@click.option("--by", "asserted_by", default="", help="Who vouches for it (default: you).")
def link(x_id: str, network: str, handle: str, uri: str, evidence: str, asserted_by: str) -> None:
    """Record that X account X_ID is HANDLE on NETWORK.

    \b
    Example:
        hirondelle directory link 783214 mastodon twitter@mastodon.social --evidence domain
    """
    _django()
    from hirondelle.identity.services.directory import assert_link
    from hirondelle.identity.services.errors import DirectoryError

    user = local_user()
    try:
        made = assert_link(
            x_id,
            network,
            handle,
            uri,
            evidence=evidence,
            asserted_by=asserted_by or f"user: {user.username}",
            created_by=user,
        )
    except DirectoryError as exc:
        raise _fail(exc) from exc
    made.refresh_from_db()
    click.echo(f"Linked X {x_id} to {made.network_account.handle} ({made.evidence}, {made.state}).")


@directory.command()
@click.option("--account", help="Which imported X account (@username or id), if several.")
@click.option("--findable/--not-findable", default=False, help="People who knew you may find you.")
@click.option(
    "--auto-followable/--not-auto-followable",
    default=False,
    help="People who followed you on X and arrive later may follow you without review.",
)
@click.option(
    "--follow-arrivals/--no-follow-arrivals",
    default=False,
    help="Follow automatically the people you follow on X when they arrive later.",
)
def consent(
    account: str | None, findable: bool, auto_followable: bool, follow_arrivals: bool
) -> None:
    """Set your three consents (each one separate; none is on unless you say so).

    \b
    Example:
        hirondelle directory consent --findable --follow-arrivals
    """
    _django()
    from hirondelle.cli.match import pick_migration
    from hirondelle.identity.services.directory import set_consent

    migration = pick_migration(account)
    from hirondelle.identity.models import x_id_from_db

    set_consent(
        x_id_from_db(migration.x_account_id),
        findable=findable,
        auto_followable=auto_followable,
        auto_follow_arrivals=follow_arrivals,
        given_by=local_user(),
    )
    on = [
        name
        for name, value in (
            ("findable", findable),
            ("may be followed automatically", auto_followable),
            ("follows arrivals automatically", follow_arrivals),
        )
        if value
    ]
    click.echo(f"@{migration.x_username}: " + (", ".join(on) if on else "no consent given."))


@directory.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include resolved conflicts.")
def conflicts(as_json: bool, show_all: bool) -> None:
    """List the conflicts: X accounts claimed for two different accounts on one network."""
    _django()
    from hirondelle.identity.models import Link, LinkConflict, x_id_from_db

    rows = LinkConflict.objects.order_by("x_account_id", "network")
    if not show_all:
        rows = rows.filter(resolved_at=None)
    out = []
    for c in rows:
        claims = Link.objects.filter(x_account_id=c.x_account_id, network=c.network).select_related(
            "network_account"
        )
        out.append(
            {
                "x_id": str(x_id_from_db(c.x_account_id)),
                "network": c.network,
                "resolved": c.resolved_at is not None,
                "claims": [
                    {
                        "handle": link.network_account.handle,
                        "evidence": link.evidence,
                        "state": link.state,
                        "asserted_by": link.asserted_by,
                    }
                    for link in claims.order_by("-strength")
                ],
            }
        )
    if as_json:
        click.echo(json.dumps(out))
        return
    if not out:
        click.echo("No conflicts.")
    for c in out:
        click.echo(f"X {c['x_id']} on {c['network']}" + (" (resolved)" if c["resolved"] else ""))
        for claim in c["claims"]:
            click.echo(
                f"  {claim['state']:<10} {claim['handle']}  {claim['evidence']} "
                f"by {claim['asserted_by']}"
            )
