from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hirondelle.portal.models import NotificationPreference
from hirondelle.portal.services.consent import current_consent
from hirondelle.portal.services.current import current_migration
from hirondelle.portal.services.later import arrivals_since, record_visit
from hirondelle.portal.services.notifications import (
    last_notice,
    next_wake,
    notice_accounts,
    notifier_account,
    preference_for,
    save_preference,
)
from hirondelle.portal.tasks import schedule_notices


class NoticeForm(forms.Form):
    """Opt in to arrival notices; the receiving account is one of the person's own."""

    enabled = forms.BooleanField(
        label=gettext_lazy("Tell me when people of my X network arrive"), required=False
    )
    account = forms.ModelChoiceField(
        label=gettext_lazy("Account that receives the message"),
        queryset=NotificationPreference.objects.none(),
        required=False,
        empty_label=None,
    )
    frequency = forms.ChoiceField(
        label=gettext_lazy("How often"),
        choices=NotificationPreference.Frequency.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = notice_accounts(user)
        self.fields["account"].label_from_instance = lambda account: account.handle

    def clean(self) -> dict:
        data = super().clean()
        if data.get("enabled") and not data.get("account"):
            raise forms.ValidationError(
                _("Notices go to a Mastodon account: connect one first."), code="no_account"
            )
        return data


@login_required
def later(request: HttpRequest) -> HttpResponse:
    """Who came since my archive was imported, and whether they are followed;
    and whether I want to be told when more come."""
    migration = current_migration(request.user)
    pref = preference_for(request.user)
    if request.method == "POST":
        form = NoticeForm(request.POST, user=request.user)
        if form.is_valid():
            save_preference(
                request.user,
                enabled=form.cleaned_data["enabled"],
                account=form.cleaned_data["account"],
                frequency=form.cleaned_data["frequency"],
                language=translation.get_language() or "",
            )
            wake = next_wake(request.user.pk)
            if form.cleaned_data["enabled"] and wake is not None:
                schedule_notices(request.user.pk, wake)  # a new frequency, a new time
            messages.success(
                request,
                _("You will be told about arrivals.")
                if form.cleaned_data["enabled"]
                else _("You will not be told about arrivals."),
            )
            return redirect("portal:later")
    else:
        form = NoticeForm(
            user=request.user,
            initial={
                "enabled": pref.enabled,
                "account": pref.account_id,
                "frequency": pref.frequency,
            },
        )
    arrivals = arrivals_since(migration) if migration else []
    last_visit = record_visit(request.user) if request.method == "GET" else None
    new = [a for a in arrivals if last_visit is None or a.asserted_at > last_visit]
    return render(
        request,
        "portal/later.html",
        {
            "migration": migration,
            "arrivals": arrivals,
            "last_visit": last_visit,
            "new_count": len(new),
            "new_followed": sum(1 for a in new if a.follow_state == "done"),
            "new_planned": sum(1 for a in new if a.follow_state in ("pending", "in_flight")),
            "new_failed": sum(1 for a in new if a.follow_state == "failed"),
            "consent": current_consent(migration) if migration else None,
            "notice_form": form,
            "notice_pref": pref,
            "notice_accounts": form.fields["account"].queryset,
            "notifier": notifier_account(),
            "last_notice": last_notice(request.user),
        },
    )
