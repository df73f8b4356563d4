"""Operator pages: institutions, their officials' states, and the same actions as the CLI.

Each action calls the service the `hirondelle institution` command calls;
the services write every step to the audit log (read-only in the admin).
Admin credentials are never shown: they are set from the command line
(`hirondelle institution server …`) and stored encrypted.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hirondelle.institutions.models import Institution, Official, Server
from hirondelle.institutions.services import (
    bluesky,
    fediverse,
    full_name_handles,
    history,
    publish,
)
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.networks.errors import NetworkError

_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ServerInline(admin.TabularInline):
    model = Server
    formfield_overrides = _HTTPS
    fields = ("kind", "url", "domain")
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "handle_domain", "page_url")
    search_fields = ("name", "slug")
    inlines = [ServerInline]
    formfield_overrides = _HTTPS
    actions = (
        "provision_bluesky",
        "provision_fediverse",
        "send_claims",
        "switch_handles",
        "verify",
        "plan_histories",
        "publish_links",
    )

    def _run(self, request: HttpRequest, queryset, work, done: str) -> None:
        for institution in queryset:
            try:
                result = work(institution)
            except (InstitutionError, NetworkError) as exc:
                self.message_user(request, f"{institution}: {exc}", level=messages.ERROR)
                continue
            self.message_user(request, f"{institution}: {done.format(r=result)}")

    @admin.action(description=_("Provision Bluesky accounts (resumable)"), permissions=["change"])
    def provision_bluesky(self, request, queryset):
        def work(inst):
            report = bluesky.provision(inst, user=request.user)
            for w in report.warnings:
                self.message_user(request, w, level=messages.WARNING)
            return report

        self._run(
            request,
            queryset,
            work,
            "{r.created} created, {r.adopted} adopted, {r.verifications_written} verified",
        )

    @admin.action(description=_("Provision fediverse accounts (resumable)"), permissions=["change"])
    def provision_fediverse(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda inst: fediverse.provision(inst, user=request.user),
            "{r.registered} registered, {r.approved} approved, {r.profiles} profiles",
        )

    @admin.action(description=_("Send the claim e-mails"), permissions=["change"])
    def send_claims(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda inst: bluesky.invite(inst, user=request.user),
            "{r} claim e-mails sent; any others go in the background at the PDS's pace",
        )

    @admin.action(
        description=_("Switch to full-name handles where they resolve"), permissions=["change"]
    )
    def switch_handles(self, request, queryset):
        def work(inst):
            report = full_name_handles.switch_handles(inst, user=request.user)
            if report.waiting:
                full_name_handles.schedule(inst, timezone.now() + full_name_handles.RETRY_EVERY)
            for name, why in report.waiting.items():
                self.message_user(request, f"{name}: {why}", level=messages.WARNING)
            return len(report.switched)

        self._run(request, queryset, work, "{r} switched; the waiting ones are retried hourly")

    @admin.action(description=_("Plan the officials' own histories"), permissions=["change"])
    def plan_histories(self, request, queryset):
        def work(inst):
            planned = 0
            for network in history.history_networks(inst):
                for plan in history.plan_histories(inst, network=network, user=request.user):
                    if plan.summary is None:
                        self.message_user(
                            request, f"{plan.official.name}: {plan.reason}", level=messages.WARNING
                        )
                    else:
                        planned += 1
            return planned

        self._run(request, queryset, work, "history planned for {r} officials")

    @admin.action(description=_("Check and renew verifications"), permissions=["change"])
    def verify(self, request, queryset):
        def work(inst):
            report = bluesky.refresh_verifications(inst, user=request.user)
            relme = publish.verify_relme(inst, user=request.user) if inst.page_url else 0
            return (report.verifications_rewritten, relme)

        self._run(request, queryset, work, "{r[0]} rewritten, {r[1]} verified by rel=me")

    @admin.action(description=_("Publish the links in the directory"), permissions=["change"])
    def publish_links(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda inst: publish.publish_links(inst, user=request.user),
            "{r.created} links added",
        )


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "institution",
        "group",
        "bluesky_state",
        "bluesky_handle",
        "fediverse_state",
        "fediverse_address",
        "history_imported_at",
    )
    list_filter = ("institution", "bluesky_state", "fediverse_state", "group")
    formfield_overrides = _HTTPS
    search_fields = ("name", "x_username", "email", "bluesky_handle", "fediverse_address")
    readonly_fields = (
        "bluesky_state",
        "bluesky_did",
        "bluesky_handle",
        "second_handle",
        "invite_code",
        "verification_rkey",
        "verified_handle",
        "verified_name",
        "fediverse_state",
        "fediverse_id",
        "fediverse_url",
        "history_account",
        "history_imported_at",
    )
