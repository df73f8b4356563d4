from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from hirondelle.migration.services.discovery import choose, progress
from hirondelle.portal.services.current import current_migration, my_accounts
from hirondelle.portal.services.discover import people_found, start
from hirondelle.portal.views._json import json_login_required

#: what each kind of evidence means, in the person's words
EVIDENCE = {
    "two_way": gettext_lazy(
        "Both sides name each other: their X name gives this account, and this account "
        "names their X account."
    ),
    "profile_claim": gettext_lazy(
        "Only one side says so: anyone can write that in a profile. Look before you tick."
    ),
    "name_match": gettext_lazy(
        "Same name only: this may be someone else entirely. Tick only if you recognise them."
    ),
}


@login_required
def discover(request: HttpRequest) -> HttpResponse:
    """Search the networks for the people nobody's directory knows (its own consent)."""
    migration = current_migration(request.user)
    if migration is None:
        messages.info(request, _("Send your X archive first."))
        return redirect("portal:upload")
    if request.method == "POST" and "start" in request.POST:
        if request.POST.get("consent") != "yes":
            messages.error(
                request,
                _("Tick the box to agree to the search first; nothing was sent."),
            )
            return redirect("portal:discover")
        start(migration, consent=True)
        messages.success(
            request,
            _("The search has started. You may close this page; it goes on without you."),
        )
        return redirect("portal:discover")
    if request.method == "POST":
        n = choose(
            migration,
            [int(v) for v in request.POST.getlist("shown") if v.isdigit()],
            [int(v) for v in request.POST.getlist("pick") if v.isdigit()],
        )
        messages.success(
            request,
            _("Saved your choice for %(n)d accounts. They will be part of your plan only.")
            % {"n": n},
        )
        return redirect("portal:discover")
    state = progress(migration)
    return render(
        request,
        "portal/discover.html",
        {
            "migration": migration,
            "progress": state,
            "people": people_found(migration) if state else [],
            "evidence": EVIDENCE,
            "has_mastodon": any(a.network == "mastodon" for a in my_accounts(request.user)),
            "texts": {
                "searched": _("%(searched)s of %(total)s accounts searched"),
                "eta": _("About %(time)s left at the pace the networks allow."),
                "done": _("The search is finished."),
            },
        },
    )


@require_GET
@json_login_required
def discover_progress(request: HttpRequest) -> HttpResponse:
    migration = current_migration(request.user)
    state = progress(migration) if migration else None
    if state is None:
        return JsonResponse({"state": None})
    return JsonResponse(
        {
            "state": state.state,
            "searched": state.searched,
            "total": state.total,
            "percent": state.percent,
            "eta_seconds": state.eta_seconds,
        }
    )
