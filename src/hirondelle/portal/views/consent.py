from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hirondelle.portal.services.consent import ConsentRefused, current_consent, save_consent
from hirondelle.portal.services.current import current_migration

CHOICES = ("findable", "auto_followable", "auto_follow_arrivals")


@login_required
def consent(request: HttpRequest) -> HttpResponse:
    """Three separate choices in plain words; none is ticked until the person ticks it."""
    migration = current_migration(request.user)
    if migration is None:
        messages.info(request, _("Send your X archive first: consent is about your X account."))
        return redirect("portal:upload")
    if request.method == "POST":
        try:
            save_consent(
                request.user,
                migration,
                **{name: request.POST.get(name) == "on" for name in CHOICES},
            )
        except ConsentRefused as e:
            messages.error(request, e.message)
            return redirect("portal:consent")
        messages.success(request, _("Your choices are saved. You can change them at any time."))
        return redirect("portal:review")
    saved = current_consent(migration)
    return render(
        request,
        "portal/consent.html",
        {"migration": migration, "saved": saved},
    )
