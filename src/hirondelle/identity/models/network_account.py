from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES


class NetworkAccount(models.Model):
    """An account on Mastodon/the fediverse (``user@host`` + actor URI) or Bluesky (handle + DID).

    `uri` may be empty while only the handle is known (an institutional
    roster names addresses, not actor URIs); it is filled in once resolved.
    """

    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    handle = models.CharField(
        _("handle"), max_length=255, help_text=_("user@host, or a Bluesky handle; no leading @")
    )
    uri = models.CharField(
        _("id"), max_length=500, blank=True, help_text=_("ActivityPub actor URI or Bluesky DID")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The face: what the account's public profile shows, read in the background
    # (`migration.services.faces`) and never while a page is being made. With
    # database defaults too, so bulk SQL inserts (snapshot merges) need not name them.
    class AvatarState(models.TextChoices):
        UNKNOWN = "", _("not read yet")
        STORED = "stored", _("stored")
        NONE = "none", _("no avatar")
        FAILED = "failed", _("could not be read")

    display_name = models.CharField(
        _("display name"), max_length=100, blank=True, default="", db_default=""
    )
    avatar_url = models.CharField(
        _("avatar source"),
        max_length=2000,
        blank=True,
        default="",
        db_default="",
        help_text=_("where the profile says its avatar is; never shown to browsers"),
    )
    avatar_state = models.CharField(
        _("avatar"),
        max_length=8,
        choices=AvatarState.choices,
        blank=True,
        default="",
        db_default="",
    )
    #: names the stored picture in its URL (`AccountAvatar`): a new picture, a new URL
    avatar_digest = models.CharField(max_length=16, blank=True, default="", db_default="")
    profile_fetched_at = models.DateTimeField(_("profile read"), null=True, blank=True)
    #: asked for by a page (stale or missing): the next refresh task reads it
    profile_wanted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    #: one reader at a time: the claim's token and when it expires
    profile_claim = models.CharField(max_length=32, blank=True, default="", db_default="")
    profile_claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("network account")
        verbose_name_plural = _("network accounts")
        constraints = [
            models.UniqueConstraint(fields=["network", "handle"], name="netaccount_unique_handle"),
            models.UniqueConstraint(
                fields=["network", "uri"], condition=~Q(uri=""), name="netaccount_unique_uri"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle}"
