from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from hirondelle.identity.models import REPORT_TEXT_MAX, ImpersonationReport
from hirondelle.identity.services.reports import report_link
from hirondelle.portal.services.ratelimit import check, parse_rates
from hirondelle.portal.services.reports import reportable_link
from hirondelle.portal.services.x_signin import proven_x_accounts
from hirondelle.portal.views._limits import minutes_to_wait, too_many

#: reports per person: enough for a real case, too few to flood the moderators
REPORT_RATES = parse_rates("10/h,30/d")
#: where "back" may lead: the pages that show a Report link
BACK = {"review": "portal:review", "later": "portal:later"}


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What is wrong?"),
        choices=ImpersonationReport.Reason.choices,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=gettext_lazy("Anything the moderators should know (optional)"),
        required=False,
        max_length=REPORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@login_required
def report(request: HttpRequest, link_id: int) -> HttpResponse:
    """Tell the moderators that an account found for someone is an impersonation."""
    proven = [x.id for x in proven_x_accounts(request.user)]
    link = reportable_link(request.user, link_id, proven_x_ids=proven)
    if link is None:
        raise Http404(_("No such account among the people found for you."))
    back = BACK.get(request.GET.get("back") or request.POST.get("back"), "portal:review")
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = check("report", f"user:{request.user.pk}", REPORT_RATES)
        if wait:
            n = minutes_to_wait(wait)
            message = ngettext(
                "You sent many reports. Try again in %(n)s minute.",
                "You sent many reports. Try again in %(n)s minutes.",
                n,
            ) % {"n": n}
            return too_many(request, wait, message)
        _report, created = report_link(
            link,
            request.user,
            form.cleaned_data["reason"],
            form.cleaned_data["text"],
            proven_x_ids=proven,
        )
        if created:
            messages.success(
                request,
                _(
                    "Thank you. The moderators will look at %(handle)s; until then, "
                    "you can deselect it on the review page."
                )
                % {"handle": link.network_account.handle},
            )
        else:
            messages.info(
                request,
                _("You already reported %(handle)s; the moderators will look at it.")
                % {"handle": link.network_account.handle},
            )
        return redirect(back)
    return render(
        request,
        "portal/report.html",
        {"link": link, "form": form, "back": request.GET.get("back", "review")},
    )
