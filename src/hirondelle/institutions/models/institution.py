"""An institution and the servers it runs (never a server of Hirondelle's own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.fields import EncryptedJSONField


class Institution(models.Model):
    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    #: second handles (the full name) live under this domain: jean-dupont.<domain>
    handle_domain = models.CharField(
        _("domain for full-name handles"),
        max_length=200,
        blank=True,
        help_text=_("e.g. deputes.example.fr; Hirondelle answers /.well-known/atproto-did there."),
    )
    #: full-name handles are published as DNS TXT records (else Hirondelle serves them)
    handles_by_dns = models.BooleanField(default=False)
    #: where the rel=me page is published (https), set as each profile's field
    page_url = models.URLField(_("verification page address"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.name

    def server(self, kind: str) -> Server | None:
        return self.servers.filter(kind=kind).first()


class Server(models.Model):
    """One of the institution's servers, with its admin credentials encrypted at rest."""

    class Kind(models.TextChoices):
        PDS = "pds", _("Bluesky PDS")
        GOTOSOCIAL = "gotosocial", "GoToSocial"
        MASTODON = "mastodon", "Mastodon"

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="servers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(_("address"))
    #: PDS: the service handle domain (".social.example.fr"); fediverse: the account domain
    domain = models.CharField(_("handle domain"), max_length=200)
    #: {"admin_password", "bypass_key", "token", "account": {"did", "handle", "password"}}
    credentials = EncryptedJSONField(default=dict)
    #: when the background task sending claim e-mails runs next (None: not queued)
    invites_wake_at = models.DateTimeField(null=True, blank=True)
    #: when the background task switching full-name handles tries again (None: not queued)
    handles_wake_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("institution server")
        verbose_name_plural = _("institution servers")
        constraints = [
            models.UniqueConstraint(fields=["institution", "kind"], name="one_server_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.institution.slug}: {self.kind} {self.url}"

    def secret(self, name: str, default: object = "") -> object:
        return (self.credentials or {}).get(name, default)


class ResetEmail(models.Model):
    """One password-reset e-mail asked of a PDS: the PDS allows 15 an hour and 50 a day
    per client address (requestPasswordReset), so every ask is counted here."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="reset_emails")
    official = models.ForeignKey(
        "institutions.Official", null=True, blank=True, on_delete=models.SET_NULL
    )
    sent_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("claim e-mail")
        verbose_name_plural = _("claim e-mails")

    def __str__(self) -> str:
        return f"{self.server_id} {self.sent_at:%Y-%m-%d %H:%M}"
