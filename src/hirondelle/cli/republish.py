"""`hirondelle republish`: bring your own posts to your new account."""

from __future__ import annotations

import json
from datetime import date

import click

from hirondelle.cli._django import ensure_database, local_user, setup_django
from hirondelle.cli.reconnect import run


def _range(value: str) -> tuple[date, date]:
    try:
        low, high = value.split("..")
        return date.fromisoformat(low), date.fromisoformat(high)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: write a range as FIRST..LAST, e.g. 2022-08-01..2023-11-30"
        ) from None


@click.command()
@click.option(
    "--to",
    "network",
    type=click.Choice(["bluesky", "mastodon"]),
    required=True,
    help="The network to republish on (one of your connected accounts).",
)
@click.option("--account", "handle", help="Which connected account, if you have several there.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day to include.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include.")
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    help="Leave out a range of days, FIRST..LAST; repeatable. For example the "
    "period your account was protected (posts for a restricted audience).",
)
@click.option("--include-replies", is_flag=True, help="Also replies to other people's posts.")
@click.option("--include-retweets", is_flag=True, help="Also your retweets (as links).")
@click.option("--id", "ids", multiple=True, help="Only this X post id; repeatable.")
@click.option("--media-only", is_flag=True, help="Only posts with photos or videos.")
@click.option(
    "--visibility",
    type=click.Choice(["public", "unlisted", "private"]),
    default="unlisted",
    show_default=True,
    help="Mastodon only: unlisted keeps old posts out of your followers' home timelines.",
)
@click.option(
    "--language",
    type=click.Choice(["fr", "en"]),
    default="fr",
    show_default=True,
    help="Language of the line stating each post's original date (Mastodon).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be published; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--background", is_flag=True, help="Plan, then let the background worker publish.")
@click.pass_context
def republish(
    ctx: click.Context,
    network: str,
    handle: str | None,
    since,
    until,
    exclude: tuple[str, ...],
    include_replies: bool,
    include_retweets: bool,
    ids: tuple[str, ...],
    media_only: bool,
    visibility: str,
    language: str,
    dry_run: bool,
    as_json: bool,
    background: bool,
) -> None:
    """Republish your own posts, threads, long posts and media.

    On Bluesky posts keep their original date (shown as archived, not pushed
    to timelines). Mastodon cannot backdate: each post says when it was first
    written, and is unlisted by default. Runs at the pace the network allows;
    stop it any time and run it again to resume, nothing is posted twice.

    \b
    Example:
        hirondelle republish --to bluesky --exclude 2022-08-01..2023-11-30 --dry-run
    """
    from hirondelle import compose

    setup_django()
    ensure_database()
    from hirondelle.cli.match import pick_account
    from hirondelle.migration.models import Migration
    from hirondelle.migration.services.republishing import plan_republish

    user = local_user()
    account = pick_account(network, handle)
    migrations = list(Migration.objects.filter(owner=user))
    if not migrations:
        raise click.ClickException("Nothing imported yet: run `hirondelle import ARCHIVE` first.")
    try:
        filters = compose.Filters(
            since=since.date() if since else None,
            until=until.date() if until else None,
            exclude=tuple(_range(r) for r in exclude),
            include_replies=include_replies,
            include_retweets=include_retweets,
            ids=frozenset(ids) if ids else None,
            media_only=media_only,
        )
    except compose.ComposeError as e:
        raise click.ClickException(str(e)) from e
    options = compose.Options(visibility=visibility, language=language)
    from hirondelle.migration.services.republishing import limits_for_account
    from hirondelle.networks.errors import NetworkError

    try:  # once for all migrations: the server's own limits
        limits = limits_for_account(account)
    except (NetworkError, compose.ComposeError) as e:
        raise click.ClickException(
            f"Could not read the limits of {account.server} (post length, media per post), "
            f"which posts are prepared for: {getattr(e, 'message', e)}. Try again later."
        ) from e
    summaries = [
        plan_republish(
            m, account, filters=filters, options=options, limits=limits, dry_run=dry_run
        ).as_dict()
        for m in migrations
    ]
    if as_json:
        click.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
    else:
        for s in summaries:
            click.echo(
                f"{s['posts']} posts → {s['parts']} {network} posts"
                f" of at most {s['limits']['max_characters']:,} characters"
                f" ({s['with_media']} with media"
                + (f", {s['media_dropped']} files left out" if s["media_dropped"] else "")
                + ")"
                + ("" if dry_run else f"; {s['added']} newly planned")
            )
            if s["replies_with_link"]:
                click.echo(
                    f"  {s['replies_with_link']} replies answer posts that are not republished: "
                    "each opens with a line linking to the original on X."
                )
            for error in s["errors"][:10]:
                click.echo(f"  skipped {error}")
    if not dry_run:
        ctx.invoke(run, background=background, handle=account.handle, dry_run=False)


@click.command("alt-text")
@click.option(
    "--to",
    "network",
    type=click.Choice(["bluesky", "mastodon"]),
    required=True,
    help="The network the posts were (or will be) republished on.",
)
@click.option("--account", "handle", help="Which connected account, if you have several there.")
@click.argument("x_post_id", required=False)
@click.argument("descriptions", nargs=-1)
def alt_text(network: str, handle: str | None, x_post_id: str | None, descriptions) -> None:
    """Describe the images of your republished posts, for people who cannot see them.

    X archives have no image descriptions and Hirondelle never invents one.
    Without arguments, lists the posts with images and whether they are
    described; with a post id and one description per image, sets them:
    kept for a post not yet published, edited on the network otherwise.

    \b
    Example:
        hirondelle alt-text --to bluesky 1580000000000000000 "A swallow on a wire"
    """
    setup_django()
    ensure_database()
    from hirondelle.cli.match import pick_account
    from hirondelle.migration.services.alt_text import (
        AltTextError,
        posts_with_images,
        set_alt_text,
    )
    from hirondelle.networks.errors import NetworkError

    account = pick_account(network, handle)
    if not x_post_id:
        posts = posts_with_images(account)
        if not posts:
            click.echo("No republished post has images (plan them with `hirondelle republish`).")
        for post in posts:
            mark = "described" if post.described else "NOT described"
            click.echo(f"{post.x_id}  {post.images} image(s), {mark}, {post.state}: {post.text}")
        return
    if not descriptions:
        raise click.UsageError("Give one description per image after the post id.")
    try:
        outcome = set_alt_text(account, x_post_id, list(descriptions))
    except AltTextError as e:
        raise click.ClickException(str(e)) from e
    except NetworkError as e:
        raise click.ClickException(f"{network} refused the edit: {e.message}") from e
    click.echo(
        "Descriptions kept: they go out with the post."
        if outcome == "kept"
        else "Descriptions added to the published post."
    )
