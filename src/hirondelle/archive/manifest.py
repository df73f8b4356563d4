"""What the manifest promises and the archive lacks.

Trimmed or partly re-zipped archives keep `data/manifest.js` but lose files
(following, followers, likes, media folders…). Read without a word, those
archives would show zero followers as if it were true; this module names
what is missing so the summary, the import and the pages can say so.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

__all__ = ["READ_BASES", "Missing", "missing_members"]

#: Data file base names (without `-partN.js`) the reader reads.
READ_BASES = frozenset(
    {
        "account",
        "profile",
        "tweets",
        "tweet",
        "note-tweet",
        "community-tweet",
        "following",
        "follower",
        "block",
        "mute",
        "like",
        "lists-created",
        "lists-member",
        "lists-subscribed",
    }
)
#: Media folders the reader maps to posts and profiles.
MEDIA_FOLDERS = frozenset({"tweets_media", "tweet_media", "community_tweet_media", "profile_media"})

_BASE = re.compile(r"^(?P<base>[A-Za-z0-9_-]+?)(?:-part\d+)?\.js$")


@dataclass(frozen=True, slots=True)
class Missing:
    """One data file or media folder the manifest lists and the archive lacks.

    `type` is the data file's base name (`following`, `follower`, `like`,
    `tweets`…) or the media folder's name (`tweets_media`…); `path` is where
    the archive should have it (folders end with "/").
    """

    type: str
    path: str

    @property
    def is_media(self) -> bool:
        return self.path.endswith("/")

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "path": self.path}

    def message(self) -> str:
        if self.is_media:
            return (
                f"the manifest lists the media folder {self.path} but the archive lacks it: "
                "posts that had pictures or videos are read without them"
            )
        return (
            f"the manifest lists {self.path} but the archive lacks it: "
            f"its {self.type} are counted as none (was the archive trimmed or re-zipped?)"
        )


def missing_members(
    manifest: dict[str, Any],
    members: Collection[str],
    data_dir: str,
    media_wanted: Collection[str] = (),
    present_dirs: Collection[str] | None = None,
) -> list[Missing]:
    """Files and folders the manifest lists, that the reader would read, and that are absent.

    A media folder counts as missing only when it is named in `media_wanted`
    (posts or the profile refer to files in it): archives without any
    picture may lack an empty folder, and that is no loss. `present_dirs`,
    the members' folders, spares iterating over every member.
    """
    types = manifest.get("dataTypes") if isinstance(manifest, dict) else None
    if not isinstance(types, dict):
        return []
    if present_dirs is None:
        present_dirs = {m.rsplit("/", 1)[0] for m in members if "/" in m}
    out: dict[str, Missing] = {}
    for entry in types.values():
        if not isinstance(entry, dict):
            continue
        files = entry.get("files")
        for file in files if isinstance(files, list) else ():
            name = file.get("fileName") if isinstance(file, dict) else None
            if not isinstance(name, str):
                continue
            basename = name.rsplit("/", 1)[-1]
            m = _BASE.match(basename)
            if not m or m.group("base") not in READ_BASES:
                continue
            path = f"{data_dir}{basename}"
            if path not in members:
                out[path] = Missing(m.group("base"), path)
        folder = entry.get("mediaDirectory")
        if isinstance(folder, str) and folder:
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            path = f"{data_dir}{name}"
            if name in MEDIA_FOLDERS and name in media_wanted and path not in present_dirs:
                out[path + "/"] = Missing(name, path + "/")
    return sorted(out.values(), key=lambda x: x.path)
