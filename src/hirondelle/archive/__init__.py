"""Read an X (Twitter) data archive: pure Python, no Django.

Opens a zip or an unzipped folder, of any format era, and yields typed records.
Never opens the private files a migration does not need::

    with open_archive("twitter-2024-05-01-….zip") as archive:
        archive.account(), archive.profile()
        for post in archive.posts(): ...
        for account_id in archive.followers(): ...
"""

from hirondelle.archive.errors import ArchiveError
from hirondelle.archive.names import NameIndex, NameSource, SeenName
from hirondelle.archive.reader import PostStats, XArchive, is_private, open_archive
from hirondelle.archive.records import (
    Account,
    Edge,
    EdgeKind,
    Like,
    ListKind,
    ListRef,
    Media,
    MediaKind,
    Mention,
    Post,
    Profile,
)
from hirondelle.archive.summary import summarize

__all__ = [
    "Account",
    "ArchiveError",
    "Edge",
    "EdgeKind",
    "Like",
    "ListKind",
    "ListRef",
    "Media",
    "MediaKind",
    "Mention",
    "NameIndex",
    "NameSource",
    "Post",
    "PostStats",
    "Profile",
    "SeenName",
    "XArchive",
    "is_private",
    "open_archive",
    "summarize",
]
