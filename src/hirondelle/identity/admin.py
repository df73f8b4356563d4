"""The directory in Django's admin: moderation, rosters, conflicts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hirondelle.identity.models import (
    Consent,
    Link,
    LinkConflict,
    NetworkAccount,
    PublisherKey,
    User,
    XAccount,
)
from hirondelle.identity.services.directory import reject_link, resolve_conflict, settle
from hirondelle.identity.services.errors import InvalidLink

admin.site.register(User, UserAdmin)


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin):
    list_display = ("id", "username", "display_name", "updated_at")
    search_fields = ("=id", "username", "display_name")


@admin.register(NetworkAccount)
class NetworkAccountAdmin(admin.ModelAdmin):
    list_display = ("handle", "network", "uri", "updated_at")
    list_filter = ("network",)
    search_fields = ("handle", "=uri")


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "findable",
        "auto_followable",
        "auto_follow_arrivals",
        "source",
        "updated_at",
    )
    list_filter = ("findable", "auto_followable", "auto_follow_arrivals", "source")
    search_fields = ("=x_account__id", "x_account__username")
    raw_id_fields = ("x_account", "given_by")


@admin.register(PublisherKey)
class PublisherKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "public_key", "trusted", "added_at")
    list_filter = ("trusted",)
    search_fields = ("name", "public_key")


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "network",
        "network_account",
        "evidence",
        "state",
        "asserted_by",
        "asserted_at",
        "publisher",
    )
    list_filter = ("network", "evidence", "state", "publisher")
    search_fields = (
        "=x_account__id",
        "x_account__username",
        "network_account__handle",
        "asserted_by",
    )
    raw_id_fields = ("x_account", "network_account", "created_by")
    readonly_fields = ("strength", "state", "updated_at")
    date_hierarchy = "asserted_at"
    actions = ("prefer_links", "reject_links")

    @admin.action(description=_("Prefer these links (reject their rivals, close the conflict)"))
    def prefer_links(self, request: HttpRequest, queryset: QuerySet[Link]) -> None:
        done = 0
        for link in queryset:
            conflict = LinkConflict.objects.filter(
                x_account_id=link.x_account_id, network=link.network
            ).first()
            if conflict is None:  # no rival: only undo a rejection
                Link.objects.filter(pk=link.pk).update(state=Link.State.CURRENT)
                settle([link.x_account_id])
            else:
                resolve_conflict(conflict, keep=link, by=request.user)
            done += 1
        self.message_user(
            request, ngettext("%d link preferred.", "%d links preferred.", done) % done
        )

    @admin.action(description=_("Reject these links (never matched again)"))
    def reject_links(self, request: HttpRequest, queryset: QuerySet[Link]) -> None:
        links = list(queryset)
        for link in links:
            reject_link(link)
        self.message_user(
            request, ngettext("%d link rejected.", "%d links rejected.", len(links)) % len(links)
        )


@admin.register(LinkConflict)
class LinkConflictAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "network",
        "contenders",
        "winner",
        "detected_at",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("network", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("=x_account__id", "x_account__username")
    readonly_fields = (
        "x_account",
        "network",
        "winner",
        "contenders",
        "claims",
        "detected_at",
        "updated_at",
    )
    actions = ("keep_strongest",)

    @admin.display(description=_("claims"))
    def claims(self, conflict: LinkConflict) -> str:
        links = Link.objects.filter(
            x_account_id=conflict.x_account_id, network=conflict.network
        ).select_related("network_account")
        return format_html_join(
            mark_safe("<br>"),
            "{} — {} ({}, {})",
            (
                (link.network_account.handle, link.evidence, link.state, link.asserted_by)
                for link in links.order_by("-strength")
            ),
        )

    @admin.action(description=_("Resolve: keep the strongest link, reject the others"))
    def keep_strongest(self, request: HttpRequest, queryset: QuerySet[LinkConflict]) -> None:
        resolved = tied = 0
        for conflict in queryset.select_related("winner"):
            try:
                resolve_conflict(conflict, by=request.user)
                resolved += 1
            except InvalidLink:
                tied += 1
        self.message_user(
            request,
            ngettext("%d conflict resolved.", "%d conflicts resolved.", resolved) % resolved,
        )
        if tied:
            self.message_user(
                request,
                ngettext(
                    "%d conflict is a tie: open its links and prefer one.",
                    "%d conflicts are ties: open their links and prefer one.",
                    tied,
                )
                % tied,
                level=messages.WARNING,
            )
