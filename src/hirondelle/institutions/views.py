"""Public institution pages; thin: every answer comes from a service."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import publish
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
