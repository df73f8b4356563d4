"""Starting Django from the command line, once, only for commands that need it."""

from __future__ import annotations

import os

import click


def setup_django() -> None:
    """Configure Django from ``HIRONDELLE_*`` settings; idempotent."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hirondelle.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.utils import translation

    # The command line speaks English; the web page, each person's language.
    translation.deactivate_all()


def ensure_database(*, verbose: bool = False) -> None:
    """Apply migrations on the laptop database; a portal migrates on purpose.

    Raises a ClickException telling a portal operator what to run when the
    database is not up to date.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from hirondelle.config import get_settings

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not pending:
        return
    if get_settings().is_laptop:
        call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    else:
        raise click.ClickException(
            f"The database has {len(pending)} migration(s) to apply. "
            "Run `hirondelle migrate` once, then start the servers again."
        )


def local_user():  # -> hirondelle.identity.models.User
    """The person the command line acts for.

    On a laptop (no public address): the local person, the same profile the
    web page signs in (see `hirondelle.identity.services.person`), unless
    ``hirondelle --user NAME`` names another. On a portal, many people share
    the database: the operator must name the person (``--user local`` for
    their own profile), or the command stops before touching anything.
    """
    from hirondelle.identity.services.person import (
        PersonError,
        local_person,
        named_person,
        single_person,
    )

    context = click.get_current_context(silent=True)
    name = context.find_root().meta.get(USER_KEY) if context is not None else None
    if name:
        try:
            return named_person(name)
        except PersonError as e:
            raise click.ClickException(str(e)) from e
    if single_person():
        return local_person()
    raise click.ClickException(
        "This Hirondelle serves many people (HIRONDELLE_PUBLIC_URL is set), so the "
        "command line does not guess whose data to use: name the person, e.g. "
        "`hirondelle --user local import …` for your own operator profile, or "
        "`hirondelle --user NAME …` with a user name from the admin (People)."
    )


#: where `hirondelle --user NAME` keeps NAME for `local_user`
USER_KEY = "hirondelle.user"


#: Evidence names, strongest first, for `--trust`/`--evidence` choices (the
#: same as `hirondelle.identity.models.Evidence`; a test checks they agree).
EVIDENCE_NAMES = [
    "x_oauth",
    "roster",
    "domain",
    "bridge",
    "two_way",
    "self",
    "profile_claim",
    "name_match",
]
