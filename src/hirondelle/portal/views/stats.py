from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hirondelle.portal.services.charts import line_chart
from hirondelle.portal.services.current import current_migration
from hirondelle.portal.services.stats import personal_stats, public_stats


def stats(request: HttpRequest) -> HttpResponse:
    """My share of my X network that moved (if signed in), and the site's totals."""
    migration = current_migration(request.user)
    mine = personal_stats(migration) if migration else None
    site = public_stats()
    return render(
        request,
        "portal/stats.html",
        {
            "mine": mine,
            "mine_rows": [
                (
                    network,
                    mine.reachable.get(network, 0),
                    round(mine.share(network), 1),
                    mine.followed.get(network, 0),
                )
                for network in ("mastodon", "bluesky")
            ]
            if mine
            else [],
            "mine_chart": line_chart(
                mine.timeline,
                title=_("Share of the people I follow on X who have moved, over time"),
                percent=True,
            )
            if mine
            else None,
            "site": site,
            "site_chart": line_chart(
                site.timeline, title=_("People findable on each network, over time")
            ),
        },
    )
