"""How sure we are that an X account and a new account belong to the same person.

Not a model: the ordered vocabulary every link, snapshot and trust threshold
uses. Stronger evidence wins conflicts; a person's trust threshold is one of
these levels.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DEFAULT_TRUST", "NETWORK_CHOICES", "Evidence"]


class Evidence(models.TextChoices):
    """Evidence kinds, strongest first (see `strength`)."""

    #: The person signed in with X on a portal that checked it.
    X_OAUTH = "x_oauth", _("signed in with X")
    #: Published by an institution for its own accounts.
    ROSTER = "roster", _("institutional roster")
    #: The same website proves both sides.
    DOMAIN = "domain", _("same website on both sides")
    #: A Bridgy Fed mirror of an already-linked account.
    BRIDGE = "bridge", _("bridge mirror")
    #: Only the person's word (a forged archive can claim anything).
    SELF = "self", _("self-declared")

    @property
    def strength(self) -> int:
        """5 for x_oauth down to 1 for self; higher wins."""
        return _STRENGTH[self.value]

    @classmethod
    def parse(cls, value: str) -> Evidence:
        """The evidence named `value`, or ValueError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(e.value for e in cls)
            raise ValueError(f"Unknown evidence {value!r}: use one of {names}.") from None


_STRENGTH = {"x_oauth": 5, "roster": 4, "domain": 3, "bridge": 2, "self": 1}

#: Without a choice, links proven by a website or better are acted on;
#: bridge mirrors and self-declared links are proposed for review.
DEFAULT_TRUST = Evidence.DOMAIN

#: Choices for every `network` column (the pure `Network` enum is no Django choice).
NETWORK_CHOICES = [("mastodon", _("Mastodon / fediverse")), ("bluesky", _("Bluesky"))]
