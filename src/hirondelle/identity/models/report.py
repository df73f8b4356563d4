from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES
from hirondelle.identity.models.link import Link
from hirondelle.identity.models.x_account import x_id_from_db

#: the longest explanation a reporter may write
REPORT_TEXT_MAX = 1000


def forget_reporter(collector, field, sub_objs, using) -> None:
    """`on_delete` for the reporter: the report stays, without who sent it or
    the words they wrote (which could name them); the reason stays."""
    # The text first: once the reporter is cleared, a lazy `sub_objs` selects nothing.
    collector.add_field_update(field.model._meta.get_field("text"), "", sub_objs)
    collector.add_field_update(field, None, sub_objs)


forget_reporter.lazy_sub_objs = True


class ImpersonationReport(models.Model):
    """Someone says a directory entry is an impersonation; a moderator decides.

    The report keeps its own copy of the X id, network and handle: the link
    itself may disappear (its author erased their data), and the moderation
    record must still say what was reported. The reporter is never shown
    publicly; if they erase their data, the report loses their name and
    their free text (`forget_reporter`) and keeps the rest.
    """

    class Reason(models.TextChoices):
        NOT_MINE = "not_mine", _("This is me, and that account is not mine")
        PRETENDS = "pretends", _("This account pretends to be someone else")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld (link rejected)")
        DISMISSED = "dismissed", _("dismissed")

    link = models.ForeignKey(
        Link,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("link"),
    )
    x_id = models.BigIntegerField(_("X id"), help_text=_("as stored; kept if the link goes"))
    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    handle = models.CharField(_("handle"), max_length=255)
    account_uri = models.CharField(_("id"), max_length=500, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=forget_reporter,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reporter_proved_x = models.BooleanField(
        _("reporter proved this X account"),
        default=False,
        help_text=_("X itself confirmed the reporter owns the X account this link claims"),
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason)
    text = models.TextField(_("details"), max_length=REPORT_TEXT_MAX, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.OPEN)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("impersonation report")
        verbose_name_plural = _("impersonation reports")
        ordering = ["-reporter_proved_x", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "link"],
                condition=Q(state="open"),
                name="report_one_open_per_reporter",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="report_state")]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle} (X {x_id_from_db(self.x_id)}) [{self.state}]"
