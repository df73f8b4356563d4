from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.x_account import XAccount


class Consent(models.Model):
    """What the person behind an X account agreed to; three separate choices, none pre-ticked.

    Without `findable`, none of this person's links is exported or matched for
    anyone else.
    """

    class Source(models.TextChoices):
        LOCAL = "local", _("given here")
        ROSTER = "roster", _("institutional roster")
        SNAPSHOT = "snapshot", _("signed directory snapshot")

    x_account = models.OneToOneField(
        XAccount, on_delete=models.CASCADE, primary_key=True, related_name="consent"
    )
    findable = models.BooleanField(
        _("findable"), default=False, help_text=_("People who knew me on X may find me.")
    )
    auto_followable = models.BooleanField(
        _("may be followed automatically"),
        default=False,
        help_text=_("People who followed me on X and arrive later may follow me without review."),
    )
    auto_follow_arrivals = models.BooleanField(
        _("follows arrivals automatically"),
        default=False,
        help_text=_("Follow automatically the people I follow on X when they arrive later."),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.LOCAL)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("given by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"consent of {self.x_account_id}"
