"""Who "the person" is when Hirondelle runs on one person's laptop.

Single-person mode is a laptop: no public address (``HIRONDELLE_PUBLIC_URL``
empty). There the command line and the web page act for the same profile,
the local person (user name ``local``): what ``hirondelle import`` reads is
on the page, and what the page uploads or connects is what ``hirondelle
plan`` and ``run`` work on.

A portal (a public address set) serves many people: the command line acts
only for the person its operator names (``hirondelle --user NAME``), and each
web sign-in finds its own profile.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from hirondelle.config import get_settings

__all__ = ["LOCAL_USERNAME", "PersonError", "local_person", "named_person", "single_person"]

LOCAL_USERNAME = "local"


class PersonError(Exception):
    """No such person, said so the operator knows what to type instead."""


def single_person() -> bool:
    """A laptop: one person, no public address."""
    return not get_settings().public_url.strip()


def local_person():  # -> hirondelle.identity.models.User
    """The laptop's person (on a portal: the operator's own profile)."""
    user, _ = get_user_model().objects.get_or_create(
        username=LOCAL_USERNAME, defaults={"first_name": "Local"}
    )
    return user


def named_person(username: str):  # -> hirondelle.identity.models.User
    """The person called `username`; ``local`` is created on first use."""
    if username == LOCAL_USERNAME:
        return local_person()
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise PersonError(
            f"No one is called {username!r} here. People's user names are listed in "
            "the admin (People); `local` is the operator's own profile."
        ) from None
