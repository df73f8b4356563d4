from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from hirondelle.migration.services.progress import account_progress
from hirondelle.portal.services.current import current_migration, my_accounts
from hirondelle.portal.services.review import start_run
from hirondelle.portal.views._json import json_login_required

KIND_LABELS = {
    "follow": gettext_lazy("follows"),
    "block": gettext_lazy("blocks"),
    "mute": gettext_lazy("mutes"),
    "list_add": gettext_lazy("list entries"),
    "post": gettext_lazy("posts"),
}


@login_required
def run(request: HttpRequest) -> HttpResponse:
    """Start the background work and watch it; closing the page changes nothing."""
    accounts = my_accounts(request.user)
    return render(
        request,
        "portal/run.html",
        {
            "migration": current_migration(request.user),
            "accounts": accounts,
            "progress": [account_progress(a, with_eta=False).as_dict() for a in accounts],
            "texts": {
                "eta": _("About %(time)s left at the pace the networks allow."),
                "finished": _("Everything planned is done."),
                "stopped": _("Stopped: %(why)s"),
                "done_of": _("%(done)s of %(total)s done"),
                "kinds": {k: str(v) for k, v in KIND_LABELS.items()},
            },
            "kind_labels": KIND_LABELS,
        },
    )


@require_POST
@login_required
def run_start(request: HttpRequest) -> HttpResponse:
    migration = current_migration(request.user)
    if migration is None:
        messages.error(request, _("Send your X archive first."))
        return redirect("portal:upload")
    if not my_accounts(request.user):
        messages.error(request, _("Sign in with a Mastodon or Bluesky account first."))
        return redirect("portal:signin")
    summary = start_run(
        request.user, migration, follow_back=request.POST.get("follow_back") == "on"
    )
    added = sum(sum(a.added.values()) for a in summary.accounts)
    messages.success(
        request,
        _("Started: %(n)d new things to do. You may close this page; the work goes on.")
        % {"n": added},
    )
    return redirect("portal:run")


@require_GET
@json_login_required
def run_progress(request: HttpRequest) -> HttpResponse:
    """Counts per kind and state, and the time left, per connected account."""
    return JsonResponse(
        {"accounts": [account_progress(a).as_dict() for a in my_accounts(request.user)]}
    )
