"""How long actions take at a network's published limits, before any account exists.

A preview (`hirondelle plan --dry-run`, `republish --dry-run`) must work
before the person has connected an account: it uses each network's default
budget (the published rate limits, see `DEFAULT_POOLS`) with fresh windows.
A connected account's own budget (`adapter.budget`) knows better.
"""

from __future__ import annotations

from collections.abc import Mapping

from hirondelle.networks.base import ActionKind, Network
from hirondelle.networks.bluesky import adapter as bluesky
from hirondelle.networks.budget import Budget
from hirondelle.networks.mastodon import adapter as mastodon

__all__ = ["eta_at_published_limits"]

_NETWORKS = {
    Network.MASTODON: (mastodon.DEFAULT_POOLS, mastodon.action_cost),
    Network.BLUESKY: (bluesky.DEFAULT_POOLS, bluesky.action_cost),
}


def eta_at_published_limits(network: Network | str, counts: Mapping[ActionKind, int]) -> float:
    """Seconds these actions need on `network` at its published limits, starting now."""
    pools, cost = _NETWORKS[Network(network)]
    budget = Budget.from_dict({}, pools)
    units: dict[str, float] = {}
    for kind, n in counts.items():
        for pool, per_action in cost(ActionKind(kind)).items():
            units[pool] = units.get(pool, 0.0) + per_action * n
    return budget.eta(units, 1) if units else 0.0
