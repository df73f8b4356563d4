from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from hirondelle.migration.services.progress import account_progress
from hirondelle.portal.services.current import current_migration, my_accounts
from hirondelle.portal.services.results import failures, status_words
from hirondelle.portal.services.review import start_run
from hirondelle.portal.templatetags.portal import num
from hirondelle.portal.views._json import json_login_required

FAILED_ONE = "Finished, but %(failed)s action could not be done: see why below."
FAILED_OTHER = "Finished, but %(failed)s actions could not be done: see why below."
KIND_LABELS = {
    "follow": gettext_lazy("People to follow"),
    "block": gettext_lazy("Accounts to block"),
    "mute": gettext_lazy("Accounts to mute"),
    "list_add": gettext_lazy("People to add to lists"),
    "post": gettext_lazy("Posts to publish"),
}


def _with_results(account) -> dict:
    """Progress, and for each failed or skipped action why and what to do."""
    data = account_progress(account, with_eta=False).as_dict()
    data["failed"] = sum(s.get("failed", 0) for s in data["items"].values())
    data["skipped"] = sum(s.get("skipped", 0) for s in data["items"].values())
    data["done"] = sum(s.get("done", 0) for s in data["items"].values())
    data["open"] = data["total"] - data["finished"]
    data["not_done"] = data["failed"] + data["skipped"]
    data["failures"] = failures(account) if data["failed"] or data["skipped"] else []
    data["stopped"] = status_words(account.status)
    data["rows"] = [
        (
            kind,
            states.get("pending", 0) + states.get("in_flight", 0),
            states.get("done", 0),
            states.get("failed", 0) + states.get("skipped", 0),
        )
        for kind, states in data["items"].items()
    ]
    return data


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
            "progress": [_with_results(a) for a in accounts],
            "texts": {
                "eta": _("About %(time)s left at the pace the networks allow."),
                "finished": _("Finished: everything planned was done."),
                "finished_failed": {
                    "one": ngettext(FAILED_ONE, FAILED_OTHER, 1),
                    "other": ngettext(FAILED_ONE, FAILED_OTHER, 2),
                },
                "done_of": _("%(done)s of %(total)s finished"),
                "kinds": {k: str(v) for k, v in KIND_LABELS.items()},
                "units": {"s": _("s"), "min": _("min"), "h": _("h"), "d": _("days")},
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
    if added:
        messages.success(
            request,
            ngettext(
                "Started: %(n)s new thing to do. You may close this page; the work goes on.",
                "Started: %(n)s new things to do. You may close this page; the work goes on.",
                added,
            )
            % {"n": num(added)},
        )
    else:
        messages.info(
            request,
            _(
                "Nothing new to do: everything you chose is already planned or done. "
                "Tick more people on the “What we found” page to add them."
            ),
        )
    return redirect("portal:run")


@require_GET
@json_login_required
def run_progress(request: HttpRequest) -> HttpResponse:
    """Counts per kind and state, and the time left, per connected account."""
    accounts = []
    for account in my_accounts(request.user):
        data = account_progress(account).as_dict()
        data["stopped"] = status_words(account.status)
        data["failed"] = sum(
            s.get("failed", 0) + s.get("skipped", 0) for s in data["items"].values()
        )
        accounts.append(data)
    return JsonResponse({"accounts": accounts})
