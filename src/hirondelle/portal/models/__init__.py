"""The portal's own models: only what the web flow needs beyond a migration."""

from hirondelle.portal.models.arrival_notice import ArrivalNotice, NoticeEntry
from hirondelle.portal.models.arrivals_visit import ArrivalsVisit
from hirondelle.portal.models.mastodon_app import MastodonApp
from hirondelle.portal.models.notification_preference import NotificationPreference
from hirondelle.portal.models.review_choice import ReviewChoice
from hirondelle.portal.models.server_list import ServerList
from hirondelle.portal.models.upload import ArchiveUpload

__all__ = [
    "ArchiveUpload",
    "ArrivalNotice",
    "ArrivalsVisit",
    "MastodonApp",
    "NoticeEntry",
    "NotificationPreference",
    "ReviewChoice",
    "ServerList",
]
