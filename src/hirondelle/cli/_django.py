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
    """The person the command line acts for: the laptop's one local user.

    A portal's people sign in through the web page; the command line there is
    for operators and acts for the local user too.
    """
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="local", defaults={"first_name": "Local"}
    )
    return user


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
