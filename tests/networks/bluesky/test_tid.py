"""Deterministic record keys: valid TIDs, stable per key, distinct across keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirondelle.networks.bluesky.tid import (
    is_tid,
    tid_for,
    tid_from_parts,
    tid_timestamp,
)

keys = st.text(min_size=1, max_size=80)
dates = st.datetimes(
    min_value=datetime(2006, 3, 21),  # the first tweet
    max_value=datetime(2100, 1, 1),
    timezones=st.just(UTC),
)


@given(keys)
def test_same_key_same_valid_tid(key):
    tid = tid_for(key)
    assert is_tid(tid)
    assert tid_for(key) == tid


@given(keys, keys)
def test_different_keys_or_namespaces_differ(a, b):
    if a != b:
        assert tid_for(a) != tid_for(b)
    assert tid_for(a, namespace="app.bsky.graph.follow") != tid_for(
        a, namespace="app.bsky.graph.block"
    )


@given(keys, dates)
def test_post_tids_sort_at_the_posts_second(key, at):
    tid = tid_for(key, at=at)
    assert is_tid(tid)
    assert tid_timestamp(tid) // 1_000_000 == int(at.timestamp())


def test_posts_sort_in_date_order_whatever_their_keys():
    start = datetime(2015, 6, 1, tzinfo=UTC)
    tids = [tid_for(f"post-{999 - i}", at=start + timedelta(seconds=i)) for i in range(200)]
    assert tids == sorted(tids)


def test_graph_tids_lie_in_the_past():
    stamps = [tid_timestamp(tid_for(f"k{i}")) / 1e6 for i in range(500)]
    assert min(stamps) >= datetime(2023, 1, 1, tzinfo=UTC).timestamp()
    assert max(stamps) < datetime(2024, 1, 1, tzinfo=UTC).timestamp()


@given(st.integers(min_value=0, max_value=(1 << 53) - 1), st.integers(0, 1023))
def test_parts_round_trip(timestamp, clock_id):
    tid = tid_from_parts(timestamp, clock_id)
    assert is_tid(tid)
    assert len(tid) == 13
    assert tid_timestamp(tid) == timestamp


def test_known_value():
    # 0 µs, clock 0 is the smallest TID; the 64-bit top bit stays 0, so "b" leads the largest.
    assert tid_from_parts(0, 0) == "2222222222222"
    assert tid_from_parts((1 << 53) - 1, 1023) == "bzzzzzzzzzzzz"


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="idempotency key"):
        tid_for("")
    with pytest.raises(ValueError, match="timezone-aware"):
        tid_for("k", at=datetime(2020, 1, 1))
    with pytest.raises(ValueError, match="not a TID"):
        tid_timestamp("hello")
    with pytest.raises(ValueError, match="out of range"):
        tid_from_parts(1 << 53, 0)
