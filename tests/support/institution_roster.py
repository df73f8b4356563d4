"""Synthetic institutional rosters (invented names, .example addresses): never real people."""

from __future__ import annotations

import csv
import io
import random

__all__ = ["roster_csv"]

FIRST = [
    "Jean",
    "Marie",
    "Élodie",
    "Karim",
    "Anne-Sophie",
    "Luc",
    "Inès",
    "Hervé",
    "Zoé",
    "François-Xavier",
    "Aïcha",
    "Paul",
    "Léa",
    "Thérèse",
    "Yann",
    "Nadia",
    "Olivier",
    "Chloé",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "de La Rochefoucauld-Montbel",
    "N'Diaye",
    "Moreau",
    "Benali",
    "Le Gall",
    "Fontaine",
    "Giraud-Delacroix",
    "Roux",
    "Faure",
    "Perrin",
]
GROUPS = ["Groupe Alpha", "Groupe Bêta", "Groupe Gamma", "Non-inscrits"]


def roster_csv(
    n: int,
    *,
    seed: int = 7,
    first_x_id: int = 10_000,
    email_tag: str = "t",
    big_group: int = 0,
    existing_bluesky: dict[int, str] | None = None,
    fediverse: dict[int, str] | None = None,
) -> str:
    """A roster of `n` officials; the first `big_group` go in one group (to split packs)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "x_id", "x_username", "email", "group", "bluesky", "fediverse"])
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        group = GROUPS[0] if i < big_group else GROUPS[1 + i % (len(GROUPS) - 1)]
        writer.writerow(
            [
                name,
                first_x_id + i,
                f"off_{email_tag}_{i}"[:15],
                f"official{i}.{email_tag}@assemblee.example",
                group,
                (existing_bluesky or {}).get(i, ""),
                (fediverse or {}).get(i, ""),
            ]
        )
    return out.getvalue()


def sign_in_as_official(user, official, network: str) -> None:
    """Record that `user` signed in on the portal with the official's new account.

    That sign-in is what proves an uploaded archive is the official's own
    (`institutions.services.history.uploaded_by_official`); no credentials are
    needed for the proof itself.
    """
    from hirondelle.migration.models import ConnectedAccount

    if network == "bluesky":
        handle, remote_id = official.bluesky_handle, official.bluesky_did
    else:
        name, _, host = official.fediverse_address.partition("@")
        handle, remote_id = official.fediverse_address, f"https://{host}/users/{name}"
    ConnectedAccount.objects.create(
        user=user,
        network=network,
        server="https://portal.invalid",
        handle=handle,
        remote_id=remote_id,
    )
