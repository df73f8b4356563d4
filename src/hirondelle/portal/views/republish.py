"""Republish my own posts on one of my connected accounts: choose, preview, start.

The page builds the same filters and options as `hirondelle republish`, then
leaves the publishing to the ordinary background runner.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from hirondelle import compose
from hirondelle.migration.services.choosing import ChoiceError, choose_account
from hirondelle.migration.services.republishing import plan_republish
from hirondelle.migration.tasks import schedule
from hirondelle.networks.errors import NetworkError
from hirondelle.portal.services.current import current_migration, my_accounts

#: Pairs of "leave out" date fields shown on the page.
EXCLUDED_RANGES = 2

VISIBILITY_CHOICES = [
    ("unlisted", gettext_lazy("Unlisted: visible on my profile, not in my followers' feeds")),
    ("public", gettext_lazy("Public: also in my followers' home timelines")),
    ("private", gettext_lazy("Followers only")),
]
LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Write a date as YYYY-MM-DD.")},
    )


class RepublishForm(forms.Form):
    """What to republish, where, and how; every choice off or neutral by default."""

    account = forms.ChoiceField(
        label=gettext_lazy("Publish on"),
        error_messages={"required": gettext_lazy("Choose the account to publish on.")},
    )
    since = _date_field(gettext_lazy("From"))
    until = _date_field(gettext_lazy("Until"))
    include_replies = forms.BooleanField(
        label=gettext_lazy("Also my replies to other people's posts"), required=False
    )
    include_retweets = forms.BooleanField(
        label=gettext_lazy("Also my retweets (as links)"), required=False
    )
    media_only = forms.BooleanField(
        label=gettext_lazy("Only posts with photos or videos"), required=False
    )
    visibility = forms.ChoiceField(
        label=gettext_lazy("Visibility on Mastodon"),
        choices=VISIBILITY_CHOICES,
        initial="unlisted",
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the line giving each post's original date"),
        choices=LANGUAGE_CHOICES,
    )

    def __init__(self, *args, accounts=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [
            (str(a.pk), f"{a.handle} ({a.get_network_display()})") for a in accounts
        ]
        if len(accounts) == 1:
            self.fields["account"].initial = str(accounts[0].pk)
        self.fields["language"].initial = "fr" if (get_language() or "fr")[:2] == "fr" else "en"
        for i in range(1, EXCLUDED_RANGES + 1):
            self.fields[f"exclude_from_{i}"] = _date_field(gettext_lazy("Leave out from"))
            self.fields[f"exclude_to_{i}"] = _date_field(gettext_lazy("to"))

    def exclude_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"exclude_from_{i}"], self[f"exclude_to_{i}"])
            for i in range(1, EXCLUDED_RANGES + 1)
        ]

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The last day comes before the first day: swap them?"))
        ranges = []
        for i in range(1, EXCLUDED_RANGES + 1):
            low, high = data.get(f"exclude_from_{i}"), data.get(f"exclude_to_{i}")
            if low is None and high is None:
                continue
            if low is None or high is None:
                self.add_error(
                    f"exclude_to_{i}",
                    _("A range to leave out needs both its first and its last day."),
                )
            elif low > high:
                self.add_error(
                    f"exclude_to_{i}",
                    _("This range to leave out ends before it starts: swap its days?"),
                )
            else:
                ranges.append((low, high))
        if self.errors:
            return data
        try:
            data["filters"] = compose.Filters(
                since=since,
                until=until,
                exclude=tuple(ranges),
                include_replies=data.get("include_replies", False),
                include_retweets=data.get("include_retweets", False),
                media_only=data.get("media_only", False),
            )
            data["options"] = compose.Options(
                visibility=data["visibility"], language=data["language"]
            )
        except compose.ComposeError as e:  # a rule the checks above did not foresee
            raise forms.ValidationError(
                _("These choices cannot be used: %(why)s") % {"why": e}
            ) from e
        return data


def _my_account(request: HttpRequest):
    """The posted account, only among the person's own: anything else is not found."""
    wanted = request.POST.get("account", "")
    if not wanted:
        return None
    try:
        return choose_account(request.user, pk=wanted)
    except ChoiceError:
        raise Http404 from None


@login_required
def republish(request: HttpRequest) -> HttpResponse:
    """GET shows the choices; POST "preview" counts without changing anything; "start" plans."""
    migration = current_migration(request.user)
    accounts = my_accounts(request.user)
    has_posts = migration is not None and migration.posts.filter(gone_at__isnull=True).exists()
    context = {"migration": migration, "accounts": accounts, "has_posts": has_posts}
    if request.method == "POST":
        account = _my_account(request)
        form = RepublishForm(request.POST, accounts=accounts)
        if not has_posts:
            messages.error(request, _("You have no imported posts to republish."))
            return redirect("portal:republish")
        if form.is_valid() and account is not None:
            start = request.POST.get("action") == "start"
            try:
                summary = plan_republish(
                    migration,
                    account,
                    filters=form.cleaned_data["filters"],
                    options=form.cleaned_data["options"],
                    dry_run=not start,
                )
            except (NetworkError, compose.ComposeError) as e:
                # The server's own limits (post length, media) could not be read.
                messages.error(
                    request,
                    _(
                        "%(server)s did not tell its limits (post length, pictures per post), "
                        "which your posts are prepared for: %(why)s. Try again in a moment."
                    )
                    % {"server": account.server, "why": getattr(e, "message", e)},
                )
                return redirect("portal:republish")
            if start:
                schedule(account)
                messages.success(
                    request,
                    _(
                        "Republishing started on %(handle)s: %(n)d new posts to publish. "
                        "You may close this page; the work goes on."
                    )
                    % {"handle": account.handle, "n": summary.added},
                )
                return redirect("portal:run")
            context["preview"] = summary.as_dict()
            for sample in context["preview"]["samples"]:
                sample["when"] = datetime.fromisoformat(sample["created_at"])
                sample["photos"] = sum(
                    1 for part in sample["parts"] for kind in part["media"] if kind == "photo"
                )
            context["preview_account"] = account
    elif request.method == "GET":
        form = RepublishForm(accounts=accounts)
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    context["form"] = form
    return render(request, "portal/republish.html", context)
