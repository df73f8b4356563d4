"""How sure we are that an X account and a new account belong to the same person.

Not a model: the ordered vocabulary every link, candidate, snapshot and trust
threshold uses. Stronger evidence wins conflicts; a person's trust threshold
is one of these levels. The order is the order of declaration below, and
nowhere else: `strength` is derived from it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DEFAULT_TRUST", "NETWORK_CHOICES", "Evidence"]


class Evidence(models.TextChoices):
    """Evidence kinds, strongest first: the declaration order *is* the ranking."""

    #: The person signed in with X on a portal that checked it: X itself vouches.
    X_OAUTH = "x_oauth", _("signed in with X")
    #: Published by an institution for its own accounts (a signed roster).
    ROSTER = "roster", _("institutional roster")
    #: The same website proves both sides (handle domain or verified rel=me link,
    #: and the site named in the X profile).
    DOMAIN = "domain", _("same website on both sides")
    #: A Bridgy Fed mirror of an already-linked account: as sure as that link.
    BRIDGE = "bridge", _("bridge mirror")
    #: Found by discovery: the X side names the new account (its display name,
    #: as the person's own archive saw it) and the new account names the X
    #: account back (bio or profile field; a Mastodon field whose link the
    #: server verified counts too). Two owners agreeing, but neither proven:
    #: someone who controls both names could still be an impostor of both.
    TWO_WAY = "two_way", _("both accounts name each other")
    #: Only the person's word: they signed in with the new account and sent
    #: an archive naming the X account (a forged archive can claim anything).
    SELF = "self", _("self-declared")
    #: Found by discovery: only the new account says it is that X account
    #: (anyone can write that in a bio); the X side says nothing.
    PROFILE_CLAIM = "profile_claim", _("claimed by the new account only")
    #: Found by discovery: the same username or display name, nothing more.
    #: Proves nothing; shown so the person can recognise someone.
    NAME_MATCH = "name_match", _("same name only")

    @property
    def strength(self) -> int:
        """From len(Evidence) for x_oauth down to 1 for name_match; higher wins."""
        return _STRENGTH[self.value]

    @classmethod
    def thresholds(cls) -> list[Evidence]:
        """The levels a person may let Hirondelle act on without asking.

        Discovery's weakest finds (one side's claim, a shared name) are always
        shown for review: anyone can write a bio or pick a name, so letting
        them follow automatically would follow impostors.
        """
        return [e for e in cls if e.strength >= _STRENGTH[cls.SELF.value]]

    @classmethod
    def parse(cls, value: str) -> Evidence:
        """The evidence named `value`, or ValueError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(e.value for e in cls)
            raise ValueError(f"Unknown evidence {value!r}: use one of {names}.") from None


_STRENGTH = {e.value: len(Evidence) - i for i, e in enumerate(Evidence)}

#: Without a choice, links proven by a website or better are acted on;
#: bridge mirrors, self-declared links and everything discovery finds are
#: proposed for review.
DEFAULT_TRUST = Evidence.DOMAIN

#: Choices for every `network` column (the pure `Network` enum is no Django choice).
NETWORK_CHOICES = [("mastodon", _("Mastodon / fediverse")), ("bluesky", _("Bluesky"))]
