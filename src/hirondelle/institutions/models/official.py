"""One person on an institution's roster, and where each of their accounts stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models import x_id_from_db
from hirondelle.migration.fields import EncryptedJSONField


class Official(models.Model):
    class Bluesky(models.TextChoices):
        PENDING = "pending", _("to do")
        CREATING = "creating", _("being created")
        CREATED = "created", _("created")
        INVITED = "invited", _("invited")
        CLAIMED = "claimed", _("claimed")
        ADOPTED = "adopted", _("adopted (existing account)")

    class Fediverse(models.TextChoices):
        PENDING = "pending", _("to do")
        REGISTERED = "registered", _("registered")
        APPROVED = "approved", _("approved")
        CLAIMED = "claimed", _("claimed")
        ADOPTED = "adopted", _("adopted (existing account)")

    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.CASCADE, related_name="officials"
    )
    name = models.CharField(_("name"), max_length=200)
    x_id = models.BigIntegerField(_("X id"))
    x_username = models.CharField(_("X username"), max_length=50, blank=True)
    email = models.EmailField(_("work e-mail"))
    group = models.CharField(_("group"), max_length=100, blank=True)
    recovery_key = models.CharField(max_length=200, blank=True)
    existing_bluesky = models.CharField(max_length=253, blank=True)
    existing_fediverse = models.CharField(max_length=300, blank=True)

    bluesky_state = models.CharField(max_length=20, choices=Bluesky.choices, default="pending")
    bluesky_handle = models.CharField(max_length=253, blank=True)
    bluesky_did = models.CharField(max_length=200, blank=True)
    #: the full name on the institution's domain, served by Hirondelle
    second_handle = models.CharField(max_length=253, blank=True)
    invite_code = models.CharField(max_length=100, blank=True)
    profile_written = models.BooleanField(default=False)
    #: the random password until the official claims the account; then erased
    secret = EncryptedJSONField(null=True, blank=True)
    verification_rkey = models.CharField(max_length=20, blank=True)
    #: what the verification record says (rewritten when the profile changes)
    verified_handle = models.CharField(max_length=253, blank=True)
    verified_name = models.CharField(max_length=200, blank=True)
    #: the verification as the AppView shows it: "valid", "invalid", "none" ("" unchecked)
    appview_verification = models.CharField(max_length=10, blank=True)
    #: when the full-name handle became the account's handle; else why not yet
    second_handle_at = models.DateTimeField(null=True, blank=True)
    second_handle_problem = models.CharField(max_length=500, blank=True)
    #: when the PDS was asked to send the claim e-mail (set before asking: sent once)
    invite_sent_at = models.DateTimeField(null=True, blank=True)

    fediverse_state = models.CharField(max_length=20, choices=Fediverse.choices, default="pending")
    fediverse_address = models.CharField(max_length=300, blank=True)
    fediverse_id = models.CharField(max_length=100, blank=True)
    fediverse_url = models.URLField(blank=True)
    #: the account's token and first password on the institution's fediverse server
    fediverse_secret = EncryptedJSONField(null=True, blank=True)
    relme_set = models.BooleanField(default=False)
    relme_verified = models.BooleanField(default=False)

    #: the account the official's own archive is republished through (their consent)
    history_account = models.ForeignKey(
        "migration.ConnectedAccount", null=True, blank=True, on_delete=models.SET_NULL
    )
    history_imported_at = models.DateTimeField(null=True, blank=True)
    links_published = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("official")
        verbose_name_plural = _("officials")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "x_id"], name="one_official_per_x_id")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def x_id_value(self) -> int:
        return x_id_from_db(self.x_id)

    @property
    def on_bluesky(self) -> bool:
        return bool(self.bluesky_did)

    @property
    def bluesky_verified(self) -> bool:
        return bool(self.verification_rkey) and (
            self.verified_handle == self.bluesky_handle and self.verified_name == self.name
        )
