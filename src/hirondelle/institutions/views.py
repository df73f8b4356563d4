"""Public institution pages; thin: every answer comes from a service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import follow, publish
from hirondelle.institutions.services.status import status


@require_GET
def institution_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Who is there, on which network, verified how, how many have arrived."""
    institution = get_object_or_404(Institution, slug=slug)
    officials = institution.officials.order_by("group", "name", "pk")
    return render(
        request,
        "institutions/institution.html",
        {"institution": institution, "officials": officials, "status": status(institution)},
    )


@require_GET
def relme_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The rel=me page: plain HTML, no script, that Mastodon's verifier reads."""
    institution = get_object_or_404(Institution, slug=slug)
    return HttpResponse(publish.relme_page(institution), content_type="text/html; charset=utf-8")


@require_GET
def importer_csv(request: HttpRequest, slug: str) -> HttpResponse:
    institution = get_object_or_404(Institution, slug=slug)
    response = HttpResponse(publish.importer_csv(institution), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{institution.slug}-following.csv"'
    return response


@require_GET
def atproto_did(request: HttpRequest) -> HttpResponse:
    """`https://<handle>/.well-known/atproto-did` for full-name handles on the domain."""
    host = request.get_host().split(":")[0].lower()
    official = (
        Official.objects.filter(second_handle=host)
        .exclude(bluesky_did="")
        .only("bluesky_did")
        .first()
    )
    if official is None:
        raise Http404("no such handle")
    return HttpResponse(official.bluesky_did, content_type="text/plain")


@require_http_methods(["GET", "POST"])
def follow_all(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign in, then one button: every official followed in the background, exactly once."""
    from hirondelle.portal.services.current import my_accounts

    institution = get_object_or_404(Institution, slug=slug)
    accounts = my_accounts(request.user)
    if request.method == "POST" and accounts:
        chosen = [a for a in accounts if str(a.pk) in request.POST.getlist("account")]
        if not chosen:
            messages.error(request, _("Choose at least one of your accounts."))
        for account in chosen:
            added = follow.follow_roster(institution, account)
            messages.success(
                request,
                ngettext(
                    "%(n)d follow queued on %(handle)s: it is done in the background.",
                    "%(n)d follows queued on %(handle)s: they are done in the background.",
                    added,
                )
                % {"n": added, "handle": account.handle},
            )
        return redirect("institutions:follow", slug=slug)
    counts = {
        "bluesky": len(follow.targets(institution, "bluesky")),
        "mastodon": len(follow.targets(institution, "mastodon")),
    }
    return render(
        request,
        "institutions/follow.html",
        {"institution": institution, "accounts": accounts, "counts": counts},
    )
