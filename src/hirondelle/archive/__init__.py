"""Read an X (Twitter) data archive: pure Python, no Django.

Opens a zip or an unzipped folder, of any format era, and yields typed records.
Never opens the private files a migration does not need.
"""

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

__all__ = [
    "Account",
    "Edge",
    "EdgeKind",
    "Like",
    "ListKind",
    "ListRef",
    "Media",
    "MediaKind",
    "Mention",
    "Post",
    "Profile",
]
