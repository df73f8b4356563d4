"""Public searches for discovery: who on Bluesky or the fediverse may be an X account.

Pure Python, no Django. `BlueskyPublic` reads Bluesky's public AppView without
signing in; `MastodonSearch` searches on the person's own server through
their connected account's adapter. Both return `PublicProfile`s.
"""

from hirondelle.networks.search.bluesky import DEFAULT_APPVIEW, PROFILES_PER_CALL, BlueskyPublic
from hirondelle.networks.search.mastodon import MastodonSearch, profile_from_account
from hirondelle.networks.search.profiles import (
    ProfileField,
    PublicProfile,
    bridged_native,
    html_to_text,
)

__all__ = [
    "DEFAULT_APPVIEW",
    "PROFILES_PER_CALL",
    "BlueskyPublic",
    "MastodonSearch",
    "ProfileField",
    "PublicProfile",
    "bridged_native",
    "html_to_text",
    "profile_from_account",
]
