"""`hirondelle servers`: the Mastodon servers suggested to people with no account."""

from __future__ import annotations

import json

import click

from hirondelle.cli._django import ensure_database, setup_django


@click.group()
def servers() -> None:
    """The Mastodon servers the sign-in page suggests, by language.

    They come from joinmastodon.org's public list (HIRONDELLE_SERVERS_LIST_URL),
    refreshed in the background; a portal may name its own instead
    (HIRONDELLE_RECOMMENDED_SERVERS).

    \b
    Example:
        hirondelle servers refresh
        hirondelle servers show --language fr
    """


@servers.command()
@click.option(
    "--language",
    "languages",
    multiple=True,
    help="A page language to refresh (repeatable); every page language by default.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def refresh(languages: tuple[str, ...], as_json: bool) -> None:
    """Fetch joinmastodon.org's list now; a failure keeps the last good list.

    \b
    Example:
        hirondelle servers refresh --language fr
    """
    setup_django()
    ensure_database()
    from hirondelle.config import get_settings
    from hirondelle.portal.services.servers import page_languages, refresh_servers

    if not get_settings().servers_list_url:
        raise click.ClickException(
            "The server list is turned off (HIRONDELLE_SERVERS_LIST_URL is empty): "
            "the sign-in page suggests the list shipped with Hirondelle."
        )
    unknown = [code for code in languages if code not in page_languages()]
    if unknown:
        raise click.ClickException(
            f"No page is written in {', '.join(unknown)}: choose among "
            f"{', '.join(page_languages())}."
        )
    results = refresh_servers(list(languages) or None)
    if as_json:
        click.echo(json.dumps([r.__dict__ | {"ok": r.ok} for r in results]))
    else:
        for r in results:
            if r.ok:
                click.echo(f"{r.language}: {r.count} servers, fetched now.")
            else:
                click.echo(f"{r.language}: not refreshed ({r.error}); the last good list stays.")
    if not any(r.ok for r in results):
        raise click.exceptions.Exit(1)


@servers.command()
@click.option("--language", default="fr", show_default=True, help="A page language.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def show(language: str, as_json: bool) -> None:
    """Print the servers the sign-in page suggests in one language, and their origin.

    \b
    Example:
        hirondelle servers show --language en
    """
    setup_django()
    ensure_database()
    from hirondelle.portal.services.servers import list_origin, suggested_servers

    listed = suggested_servers(language)
    origin = list_origin(language)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "servers": [{"domain": s.domain, "about": s.about} for s in listed],
                    "source": origin.source,
                    "checked": origin.checked.isoformat(),
                    "fetched": origin.fetched,
                }
            )
        )
        return
    for s in listed:
        click.echo(f"{s.domain}" + (f" — {s.about}" if s.about else ""))
    where = "fetched from" if origin.fetched else "shipped with Hirondelle, chosen from"
    click.echo(f"({where} {origin.source}, {origin.checked.isoformat()})")
