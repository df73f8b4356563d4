"""Finding people who never joined a directory: the pure rules (no Django, no network).

- `claims`: addresses an X display name names, and X accounts a new profile
  claims (`addresses_in`, `x_usernames_in`, `x_usernames_in_fields`).
- `preselect`: which candidates review ticks in advance.

The searches themselves are network-adapter calls under `hirondelle.networks`;
what was found for a person is their migration's (see `hirondelle.migration`).
"""

from hirondelle.discovery.claims import (
    AddressClaim,
    ClaimNetwork,
    XClaim,
    addresses_in,
    html_to_text,
    is_x_username,
    x_usernames_in,
    x_usernames_in_fields,
)
from hirondelle.discovery.preselect import (
    DISCOVERY_EVIDENCE,
    NEW_ACCOUNT_AGE,
    CandidateFacts,
    Choice,
    Reason,
    looks_like_impostor,
    preselect,
)

__all__ = [
    "DISCOVERY_EVIDENCE",
    "NEW_ACCOUNT_AGE",
    "AddressClaim",
    "CandidateFacts",
    "Choice",
    "ClaimNetwork",
    "Reason",
    "XClaim",
    "addresses_in",
    "html_to_text",
    "is_x_username",
    "looks_like_impostor",
    "preselect",
    "x_usernames_in",
    "x_usernames_in_fields",
]
