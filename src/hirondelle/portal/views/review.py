from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from hirondelle.identity.models import Evidence
from hirondelle.identity.services.trust import Review
from hirondelle.migration.services.names import names_for
from hirondelle.portal.services.current import current_migration, my_accounts
from hirondelle.portal.services.faces import faces_for_links
from hirondelle.portal.services.review import DIRECTIONS, review_page, save_choices, set_trust
from hirondelle.portal.templatetags.portal import num

REASONS = {
    Review.BELOW_TRUST: gettext_lazy(
        "the only proof is weaker than the level you trust (for example, only their own word)"
    ),
    Review.CONTESTED: gettext_lazy("two accounts claim to be this person: check which is right"),
    Review.NOT_FOLLOWABLE: gettext_lazy("they did not agree to be followed automatically"),
    Review.NO_AUTO_FOLLOW: gettext_lazy("they did not agree to follow back automatically"),
}
DIRECTION_LABELS = {
    "following": gettext_lazy("People I follow"),
    "followers": gettext_lazy("People who follow me"),
    "blocks": gettext_lazy("People I blocked"),
    "mutes": gettext_lazy("People I muted"),
}


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """Who was found, per network, grouped by evidence; select or deselect."""
    migration = current_migration(request.user)
    if migration is None:
        messages.info(request, _("Send your X archive first."))
        return redirect("portal:upload")
    if request.method == "POST" and "trust" in request.POST:
        try:
            set_trust(migration, request.POST["trust"])
        except ValueError:
            messages.error(request, _("Choose one of the listed levels."))
        return redirect("portal:review")
    if request.method == "POST":
        n = save_choices(migration, request.POST.getlist("shown"), request.POST.getlist("pick"))
        if n:
            messages.success(
                request,
                ngettext(
                    "Your choice for %(n)s account is saved.",
                    "Your choices for %(n)s accounts are saved.",
                    n,
                )
                % {"n": num(n)},
            )
        if request.POST.get("then") == "accounts":
            return redirect("portal:signin" if not my_accounts(request.user) else "portal:run")
        query = {
            "direction": request.POST.get("direction", "following"),
            "q": request.POST.get("q", ""),
        }
        return redirect(reverse("portal:review") + "?" + urlencode(query))
    direction = request.GET.get("direction", "following")
    query = request.GET.get("q", "")
    page = review_page(migration, direction, query)
    shown_ids = {row.match.x_id for group in page.groups for row in group.rows}
    # The X side as this person's archive knew it (never another person's word).
    x_info = names_for(migration, shown_ids)
    # Their name and avatar as stored; stale ones are read in the background.
    faces = faces_for_links(row.match.link_id for group in page.groups for row in group.rows)
    return render(
        request,
        "portal/review.html",
        {
            "migration": migration,
            "page": page,
            "q": query,
            "directions": [(d, DIRECTION_LABELS[d]) for d in DIRECTIONS],
            "reasons": [(REASONS.get(r, r), n) for r, n in page.reasons.most_common()],
            "reason_labels": REASONS,
            "trust_levels": [(e.value, e.label) for e in Evidence.thresholds()],
            "x_info": x_info,
            "faces": faces,
        },
    )
