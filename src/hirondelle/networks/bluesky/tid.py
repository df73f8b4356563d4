"""Deterministic record keys (TIDs) derived from idempotency keys.

A TID is the record-key type of every Bluesky collection we write (follow,
block, list, listitem, post): 13 characters of sortable base32 holding a
64-bit integer, top bit zero, then 53 bits of microseconds since 1970 and a
10-bit clock id. Deriving it from a hash of the plan item's key means a retry
after a crash writes the same record key again, so the repository refuses or
recognises it instead of holding the same follow twice.

For posts the timestamp part is the post's own date (repositories sort
records by key, so backdated posts sort where they belong); for everything
else it is spread over 2023 from the hash, which keeps keys in the past.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

__all__ = ["TID_PATTERN", "is_tid", "tid_for", "tid_from_parts", "tid_timestamp"]

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")

_SPREAD_START_US = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
_SPREAD_US = 365 * 24 * 3600 * 1_000_000
_MAX_TIMESTAMP_US = (1 << 53) - 1


def tid_from_parts(timestamp_us: int, clock_id: int) -> str:
    """Encode microseconds since the epoch and a 10-bit clock id as a TID."""
    if not 0 <= timestamp_us <= _MAX_TIMESTAMP_US:
        raise ValueError(f"TID timestamp out of range: {timestamp_us}")
    value = (timestamp_us << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_timestamp(tid: str) -> int:
    """Microseconds since the epoch held in a TID."""
    if not is_tid(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | _ALPHABET.index(char)
    return value >> 10


def is_tid(value: str) -> bool:
    return bool(TID_PATTERN.match(value))


def tid_for(key: str, *, namespace: str = "", at: datetime | None = None) -> str:
    """The TID for an idempotency key: same key (and namespace) in, same TID out.

    `at` (a post's date) fixes the second the TID sorts at; the hash chooses
    the microseconds and the clock id, so two posts of the same second differ.
    """
    if not key:
        raise ValueError("an idempotency key is needed to derive a record key")
    digest = hashlib.blake2b(f"{namespace}\x00{key}".encode(), digest_size=16).digest()
    spread = int.from_bytes(digest[:8], "big")
    clock_id = int.from_bytes(digest[8:10], "big") & 0x3FF
    if at is None:
        timestamp = _SPREAD_START_US + spread % _SPREAD_US
    else:
        if at.tzinfo is None:
            raise ValueError("post dates must be timezone-aware")
        seconds = int(at.timestamp())
        timestamp = max(0, seconds) * 1_000_000 + spread % 1_000_000
    return tid_from_parts(timestamp, clock_id)
