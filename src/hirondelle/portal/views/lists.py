"""My X lists: name each list I created, choose its members among the people
found on a new network, and let the background runner rebuild it.

The archive gives list addresses only, so the page asks for the name and the
members; lists I was a member of or subscribed to are shown, read-only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hirondelle.migration.models import ImportedList, PlanItem
from hirondelle.migration.services import lists as service
from hirondelle.migration.services.choosing import ChoiceError, choose_account
from hirondelle.migration.tasks import schedule
from hirondelle.portal.services.current import current_migration, my_accounts

#: why a pasted handle was not added, for people
REASONS = {
    "invalid": lambda: _("not an X handle or profile address (write @name or https://x.com/name)"),
    "unknown": lambda: _("nobody has linked this X account to a new account yet"),
    "not_in_graph": lambda: _("not among the people you follow or who follow you in your archive"),
    "not_on_network": lambda: _("not found on this network (yet)"),
    "needs_review": lambda: _("found, but the match needs your review first"),
}


def _chosen(rebuild) -> set[str]:
    return set(
        PlanItem.objects.filter(kind="list_add", payload__rebuild=rebuild.pk)
        .exclude(state=PlanItem.State.SKIPPED)
        .values_list("x_id", flat=True)
    )


def _context(migration, accounts) -> dict:
    overview = service.lists_overview(migration)
    found = {a.pk: service.candidates(migration, a) for a in accounts}
    created = []
    for row in overview.created:
        rebuilds = {r.account_id: r for r in row.rebuilds.all()}
        per_account = []
        for account in accounts:
            rebuild = rebuilds.get(account.pk)
            chosen = _chosen(rebuild) if rebuild else set()
            per_account.append(
                {
                    "account": account,
                    "rebuild": rebuild,
                    "progress": service.progress(rebuild) if rebuild else {},
                    "people": [(c, str(c.x_id) in chosen) for c in found[account.pk]],
                    "chosen": len(chosen),
                }
            )
        try:  # an address of another form (…/name/lists/slug) has no number
            x_id, default = service.x_list_id(row.url), service.default_name(row)
        except service.ListsError:
            x_id, default = f"row-{row.pk}", ""
        name = next((r.name for r in rebuilds.values()), "") or default
        created.append(
            {
                "row": row,
                "x_id": x_id,
                "name": name,
                "accounts": per_account,
                "rebuilt": [p for p in per_account if p["rebuild"]],
            }
        )
    return {
        "migration": migration,
        "accounts": accounts,
        "created": created,
        "member": overview.member,
        "subscribed": overview.subscribed,
    }


def _mine(request: HttpRequest, migration, accounts):
    """The posted list and account, only among the person's own: else not found."""
    try:
        list_pk = int(request.POST.get("list", ""))
        account_pk = int(request.POST.get("account", ""))
    except ValueError:
        raise Http404 from None
    imported = ImportedList.objects.filter(
        pk=list_pk, migration=migration, kind="created", gone_at__isnull=True
    ).first()
    try:
        account = choose_account(request.user, pk=account_pk)
    except ChoiceError:
        raise Http404 from None
    if imported is None:
        raise Http404
    return imported, account


def _save(request: HttpRequest, migration, accounts) -> dict:
    imported, account = _mine(request, migration, accounts)
    members: list[int] = []
    for value in request.POST.getlist(f"members_{account.pk}"):
        try:
            members.append(int(value))
        except ValueError:
            continue
    not_found = []
    pasted = request.POST.get("handles", "").strip()
    if pasted:
        resolution = service.resolve_handles(migration, account, pasted)
        members += [c.x_id for c in resolution.found]
        not_found = [(n.line, REASONS[n.reason]()) for n in resolution.not_found]
    name = request.POST.get("name", "")
    try:
        outcome = service.save_rebuild(imported, account, name=name, members=members)
    except service.ListsError as e:
        messages.error(request, _("The list was not saved: %(why)s") % {"why": e})
        return {"failed_list": imported.pk, "posted_name": name, "posted_handles": pasted}
    schedule(account)
    text = ngettext(
        "“%(name)s” on %(handle)s: %(n)d member, %(added)d newly planned.",
        "“%(name)s” on %(handle)s: %(n)d members, %(added)d newly planned.",
        outcome.members,
    ) % {
        "name": outcome.rebuild.name,
        "handle": account.handle,
        "n": outcome.members,
        "added": outcome.added + outcome.revived,
    }
    if outcome.follows_planned:
        text += " " + ngettext(
            "Mastodon lists only people you follow: %(n)d follow is planned first.",
            "Mastodon lists only people you follow: %(n)d follows are planned first.",
            outcome.follows_planned,
        ) % {"n": outcome.follows_planned}
    if outcome.removed:
        text += " " + _("%(n)d removed before being added.") % {"n": outcome.removed}
    if outcome.kept_on_network:
        text += " " + _("%(n)d left out were already added: remove them on the network itself.") % {
            "n": outcome.kept_on_network
        }
    if outcome.rebuild.remote_list_id and outcome.rebuild.name != " ".join(name.split()):
        text += " " + _("The list already exists on the network: rename it there.")
    messages.success(request, text)
    return {"saved_list": imported.pk, "not_found": not_found}


@login_required
def lists(request: HttpRequest) -> HttpResponse:
    """GET shows my lists; POST saves one list's name and members and starts the rebuild."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    migration = current_migration(request.user)
    accounts = my_accounts(request.user)
    if migration is None:
        if request.method == "POST":
            raise Http404  # no lists of one's own to rebuild
        return render(request, "portal/lists.html", {"migration": None, "accounts": accounts})
    extra = {}
    if request.method == "POST":
        extra = _save(request, migration, accounts)
    context = _context(migration, accounts)
    context.update(extra)
    return render(request, "portal/lists.html", context)
