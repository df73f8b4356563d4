from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES, Evidence
from hirondelle.identity.models.network_account import NetworkAccount
from hirondelle.identity.models.publisher_key import PublisherKey
from hirondelle.identity.models.x_account import XAccount


class LinkQuerySet(models.QuerySet):
    def usable(self) -> LinkQuerySet:
        """Links that may be matched: the winner, or tied contenders (review only)."""
        return self.filter(state__in=(Link.State.CURRENT, Link.State.CONTESTED))

    def findable(self) -> LinkQuerySet:
        """Links whose owner consented to be found by others."""
        return self.filter(x_account__consent__findable=True)


class Link(models.Model):
    """ "This X account is that network account", with its evidence and provenance.

    Several links may exist for one X account on one network; `state` says
    which one wins (the strongest evidence; a tie is `contested` and never acted
    on automatically). It is recomputed by `identity.services.directory`.
    """

    class State(models.TextChoices):
        CURRENT = "current", _("current")
        CONTESTED = "contested", _("contested (tie, review only)")
        SUPERSEDED = "superseded", _("superseded by stronger evidence")
        REJECTED = "rejected", _("rejected by an administrator")

    x_account = models.ForeignKey(
        XAccount,
        on_delete=models.CASCADE,
        related_name="links",
        verbose_name=_("X account"),
        db_index=False,  # link_unique_pair and link_match lead with it
    )
    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    network_account = models.ForeignKey(
        NetworkAccount,
        on_delete=models.CASCADE,
        related_name="links",
        verbose_name=_("network account"),
    )
    evidence = models.CharField(_("evidence"), max_length=16, choices=Evidence)
    strength = models.PositiveSmallIntegerField(
        _("strength"), help_text=_("derived from evidence: highest for x_oauth … 1 for name_match")
    )
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.CURRENT)
    asserted_by = models.CharField(
        _("asserted by"), max_length=200, help_text=_("who vouched for it: person, roster, portal")
    )
    asserted_at = models.DateTimeField(_("asserted at"))
    publisher = models.ForeignKey(
        PublisherKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("from snapshot signed by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = LinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(
                fields=["x_account", "network_account"], name="link_unique_pair"
            ),
        ]
        indexes = [models.Index(fields=["x_account", "network", "state"], name="link_match")]

    def __str__(self) -> str:
        return f"{self.x_account_id} → {self.network_account} ({self.evidence})"

    def save(self, *args, **kwargs) -> None:
        self.strength = Evidence(self.evidence).strength
        super().save(*args, **kwargs)
