"""Public institution pages; thin: every answer comes from a service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import claim, follow, publish
from hirondelle.institutions.services.status import status
from hirondelle.portal.views._limits import rate_limited


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


# -- an official claims their Bluesky account ------------------------------------------

_CLAIM_ERRORS = {
    "short": lambda: _("Choose a password of at least 8 characters."),
    "refused": lambda: _(
        "This code was not accepted for this address. Check both: the code is in the "
        "e-mail sent by your institution's server and is valid for 15 minutes. You can "
        "ask for a new one below."
    ),
    "busy": lambda: _(
        "The server is receiving too many requests right now. Try again in a few minutes: "
        "nothing is lost."
    ),
    "unavailable": lambda: _(
        "Your institution's server cannot be reached right now. Try again in a few "
        "minutes: nothing is lost."
    ),
    "mismatch": lambda: _("The two passwords are different: type the same one twice."),
}


@require_http_methods(["GET", "POST"])
def claim_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 1: the official's work e-mail (the page says the same whether it is on the roster)."""
    institution = get_object_or_404(Institution, slug=slug)
    if request.method == "POST":
        return _claim_email(request, institution)
    return render(request, "institutions/claim_start.html", {"institution": institution})


@rate_limited("signin")
def _claim_email(request: HttpRequest, institution: Institution) -> HttpResponse:
    email = request.POST.get("email", "").strip()
    if "@" not in email:
        return render(
            request,
            "institutions/claim_start.html",
            {
                "institution": institution,
                "email": email,
                "error": _("Write your work e-mail address, as name@institution.fr."),
            },
            status=400,
        )
    claim.request_code(institution, email)
    request.session["claim_email"] = email
    return redirect("institutions:claim_code", slug=institution.slug)


@sensitive_post_parameters("password", "password2")
@require_http_methods(["GET", "POST"])
def claim_code(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 2: the code from the e-mail and the official's own new password."""
    institution = get_object_or_404(Institution, slug=slug)
    email = request.session.get("claim_email")
    if not email:
        return redirect("institutions:claim", slug=slug)
    if request.method == "POST":
        return _claim_submit(request, institution, email)
    return render(
        request, "institutions/claim_code.html", {"institution": institution, "email": email}
    )


@rate_limited("signin")
def _claim_submit(request: HttpRequest, institution: Institution, email: str) -> HttpResponse:
    password = request.POST.get("password", "")
    try:
        if password != request.POST.get("password2", ""):
            raise claim.ClaimError("mismatch")
        official = claim.claim_with_code(institution, email, request.POST.get("code", ""), password)
    except claim.ClaimError as exc:
        return render(
            request,
            "institutions/claim_code.html",
            {"institution": institution, "email": email, "error": _CLAIM_ERRORS[exc.code]()},
            status=400,
        )
    request.session.pop("claim_email", None)
    request.session["claimed_official"] = official.pk
    return redirect("institutions:claim_done", slug=institution.slug)


@require_GET
def claim_done(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 3: the claimed account and what to do next (sign in to the app)."""
    institution = get_object_or_404(Institution, slug=slug)
    official = institution.officials.filter(
        pk=request.session.get("claimed_official"), bluesky_state=Official.Bluesky.CLAIMED
    ).first()
    if official is None:
        return redirect("institutions:claim", slug=slug)
    server = institution.server("pds")
    return render(
        request,
        "institutions/claim_done.html",
        {
            "institution": institution,
            "official": official,
            "provider": (server.url if server else "").removeprefix("https://"),
        },
    )
