"""Would a faster JSON validator bring `archive inspect` within 2x the floor?

Times, on the tweets file and a followers file of `archive_bench.py`'s
archive, in CPU seconds: msgspec's typed decode of the fields inspect counts
(what inspect does), simdjson (pysimdjson) parsing alone, and simdjson
parsing then reading the same fields through its Python objects. pysimdjson
is not a dependency of Hirondelle: run this in a scratch environment.

    python3 -m venv /tmp/simd && /tmp/simd/bin/pip install pysimdjson msgspec
    .venv/bin/python bench/archive_bench.py --repeat 1     # makes the archive once
    /tmp/simd/bin/python bench/json_validators.py \
        bench/out/twitter-2024-05-01-bench-200000p-2000000f.zip
"""

from __future__ import annotations

import sys
import time
import zipfile

import msgspec
import simdjson


class Mention(msgspec.Struct, gc=False):
    id_str: str | None = None
    screen_name: str | None = None


class Entities(msgspec.Struct, gc=False):
    user_mentions: list[Mention] | None = None
    media: list[msgspec.Raw] | None = None


class Edit(msgspec.Struct, gc=False):
    editTweetIds: list[str] | None = None


class EditInfo(msgspec.Struct, gc=False):
    initial: Edit | None = None


class Tweet(msgspec.Struct, gc=False):
    id_str: str | None = None
    full_text: str | None = None
    created_at: str | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_screen_name: str | None = None
    entities: Entities | None = None
    edit_info: EditInfo | None = None


class TweetItem(msgspec.Struct, gc=False):
    tweet: Tweet | None = None


class Account(msgspec.Struct, gc=False):
    accountId: str | None = None


class FollowerItem(msgspec.Struct, gc=False):
    follower: Account | None = None


def simd_tweet_fields(doc) -> int:
    n = 0
    for item in doc:
        t = item["tweet"]
        for key in ("id_str", "created_at", "in_reply_to_status_id_str"):
            t.get(key)
        t.get("in_reply_to_user_id_str"), t.get("in_reply_to_screen_name"), t.get("edit_info")
        e = t.get("entities")
        for m in (e.get("user_mentions") or []) if e is not None else []:
            m.get("id_str"), m.get("screen_name")
        n += bool(t.get("full_text"))
    return n


def simd_follower_fields(doc) -> int:
    return sum(1 for item in doc if item["follower"]["accountId"])


def timed(label: str, f, body: bytes) -> None:
    t = time.process_time()
    f(body)
    print(f"  {label:38s} {time.process_time() - t:6.2f} s CPU")


def main() -> None:
    with zipfile.ZipFile(sys.argv[1]) as z:
        files = {"tweets": z.read("data/tweets.js"), "followers": z.read("data/follower.js")}
    for name, raw in files.items():
        body = raw[raw.index(b"=") + 1 :]
        typed = list[TweetItem] if name == "tweets" else list[FollowerItem]
        fields = simd_tweet_fields if name == "tweets" else simd_follower_fields
        print(f"{name}: {len(body) / 1e6:.0f} MB of JSON")
        timed(
            "msgspec, typed decode of the fields",
            lambda b, t=typed: msgspec.json.decode(b, type=t),
            body,
        )
        timed("simdjson, parse only", lambda b: len(simdjson.Parser().parse(b)), body)
        timed(
            "simdjson, parse and read the fields",
            lambda b, f=fields: f(simdjson.Parser().parse(b)),
            body,
        )


if __name__ == "__main__":
    main()
