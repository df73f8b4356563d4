"""How many archive posts per second does the compose pipeline make ready?

Builds a synthetic archive of Post records in memory (100,000 by default: the
size of an extreme X archive), shaped like real ones: mostly short posts,
some long notes, threads, quotes, retweets, replies, emoji, links, mentions
and hashtags. Then, for Bluesky and for Mastodon, times:

- copy      — merely iterating the posts and copying each text (the floor);
- naive     — a naive split: code-point slices of the limit, no rules at all;
- plan      — filtering and ordering the archive (`compose.plan`);
- prepare   — `compose.prepare` for every post: mentions, links, tags,
              Mastodon date line, split within the limits, facets, media
              choice, references and keys.

    .venv/bin/python bench/compose_bench.py [--scale 0.1] [--seed 1] [--source x-archive]

The network is the bottleneck of republishing (Bluesky: ~1,666 creates an
hour; Mastodon: 300 posts per 3 hours); preparing must not be.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import regex

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
# For --source x-archive (tests/support/x_archive.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hirondelle.archive.records import Media, MediaKind, Mention, Post
from hirondelle.compose import (
    BLUESKY,
    MASTODON,
    order,
    plan,
    prepare,
    thread_roots,
)
from hirondelle.networks.base import Network, RemoteAccount

_VOCABULARY = (
    "le la les un une des et à de en pour sur avec dans migration réseau fédivers Bluesky "
    "Mastodon hirondelle printemps été automne hiver journal article lire the a of and to "
    "in for on with about network people history thread post write naïve café élève "
    "garçon ça où déjà"
)
WORDS = tuple(_VOCABULARY.split(" "))
EMOJI = ["🐦", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "❤️", "😂", "🧵"]
ENDS = [".", ".", "!", "?", "…", ""]
GRAPHEME = regex.compile(r"\X")
NAMES = [f"user_{i}" for i in range(5000)]
TAGS = ["Paris", "été", "FediVerse", "Hirondelle", "climat", "JO2024", "IA", "vélo"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 16))]
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), rng.choice(EMOJI))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), "@" + rng.choice(NAMES))
    if rng.random() < 0.15:
        words.append("#" + rng.choice(TAGS))
    if rng.random() < 0.12:
        path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
        words.append(
            f"https://www.example{rng.randint(1, 50)}.com/{path}?id={rng.randint(1, 10**6)}"
        )
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(ENDS)


def synthetic_posts(n: int, seed: int) -> list[Post]:
    """A person's archive: ~12 % retweets, ~15 % replies to others, threads, quotes, notes."""
    rng = random.Random(seed)
    when = datetime(2012, 1, 1, tzinfo=UTC)
    posts: list[Post] = []
    for i in range(n):
        when += timedelta(seconds=rng.randint(60, 6 * 3600))
        pid = str(10**17 + i * 7919)
        kind = rng.random()
        extra: dict = {}
        if kind < 0.12:
            name = rng.choice(NAMES)
            text = f"RT @{name}: " + sentence(rng)[:120]
            extra.update(is_retweet=True, retweeted_screen_name=name)
        elif kind < 0.27:
            name = rng.choice(NAMES)
            text = f"@{name} " + sentence(rng)
            extra.update(reply_to_post_id=str(rng.randrange(10**17)), reply_to_screen_name=name)
        elif kind < 0.42 and posts:
            parent = posts[-1]
            text = " ".join(sentence(rng) for _ in range(rng.randint(1, 3)))
            extra.update(
                reply_to_post_id=parent.id,
                is_self_reply=True,
                thread_root_id=parent.thread_root_id or parent.id,
            )
        elif kind < 0.47 and posts:
            target = posts[rng.randrange(len(posts))]
            text = sentence(rng) + f" https://twitter.com/me/status/{target.id}"
            extra.update(quoted_post_id=target.id, quoted_screen_name="me")
        elif kind < 0.55:
            # Notes run up to 25,000 characters; most are a few paragraphs.
            paragraphs = rng.randint(2, 6) if rng.random() < 0.95 else rng.randint(30, 60)
            text = "\n\n".join(
                " ".join(sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(paragraphs)
            )[:25_000]
            extra.update(is_long=True)
        else:
            text = " ".join(sentence(rng) for _ in range(rng.randint(1, 3)))[:280]
        if rng.random() < 0.25 and not extra.get("is_retweet"):
            count = rng.choice([1, 1, 1, 2, 4, 5])
            kinds = [MediaKind.PHOTO] * count if rng.random() < 0.85 else [MediaKind.VIDEO]
            extra["media"] = tuple(
                Media(k, f"https://pbs.twimg.com/media/{pid}{j}.jpg", f"{pid}-{j}.jpg")
                for j, k in enumerate(kinds)
            )
        mentions = tuple(Mention(w[1:]) for w in text.split() if w.startswith("@"))
        posts.append(
            Post(
                id=pid,
                created_at=when,
                text=text,
                lang=rng.choice(["fr", "fr", "en", "und"]),
                mentions=mentions,
                thread_root_id=extra.pop(
                    "thread_root_id", pid if not extra.get("is_retweet") else None
                ),
                possibly_sensitive=rng.random() < 0.02,
                **extra,
            )
        )
    return posts


def resolver_for(network: Network):
    """A fifth of the people are in the directory (a dict lookup, like a cached DB read)."""
    moved = {}
    for index, name in enumerate(NAMES[::5]):
        if network is Network.BLUESKY:
            moved[name.casefold()] = RemoteAccount(
                network, f"did:plc:{index:024d}", f"{name}.bsky.social"
            )
        else:
            moved[name.casefold()] = RemoteAccount(
                network, f"https://piaille.fr/users/{name}", f"{name}@piaille.fr"
            )
    return lambda name: moved.get(name.casefold())


def naive_split(text: str, limit: int) -> list[str]:
    """Slices of `limit` code points: may cut an emoji in two, ignores bytes and words."""
    return [text[i : i + limit] for i in range(0, len(text), limit)] or [""]


def naive_grapheme_split(text: str, limit: int) -> list[str]:
    """Slices of `limit` grapheme clusters: the least a correct splitter must do."""
    clusters = GRAPHEME.findall(text)
    return ["".join(clusters[i : i + limit]) for i in range(0, len(clusters), limit)] or [""]


def timed(label: str, count: int, action):
    """Run `action` once; print wall and CPU time (the machine may be shared)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate = count / cpu if cpu else float("inf")
    print(f"  {label:<38} {wall:7.2f} s wall {cpu:7.2f} s CPU {rate:11,.0f} posts/s")
    return result, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000, help="archive size (default 100,000)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the size, e.g. 0.1 for a quick check"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the synthetic archive")
    parser.add_argument(
        "--source",
        choices=["synthetic", "x-archive"],
        default="synthetic",
        help="synthetic: this script's generator (long notes, many mentions); x-archive: "
        "the posts the test suite's archive generator says a reader yields",
    )
    args = parser.parse_args()
    n = max(1, int(args.posts * args.scale))

    start = time.perf_counter()
    if args.source == "x-archive":
        from tests.support.x_archive import expected_posts, sample_spec

        spec = sample_spec(args.seed, n_posts=n, n_following=10, n_likes=0)
        posts = expected_posts(spec)
    else:
        posts = synthetic_posts(n, args.seed)
    print(f"{args.source} archive: {n:,} posts built in {time.perf_counter() - start:.1f} s")
    chars = sum(len(p.text) for p in posts)
    print(
        f"  {chars / n:.0f} characters per post on average; "
        f"{sum(p.is_long for p in posts):,} long notes (up to "
        f"{max(len(p.text) for p in posts):,} characters)"
    )
    print("  rates are posts per CPU second")

    for network, limits in ((Network.BLUESKY, BLUESKY), (Network.MASTODON, MASTODON)):
        print(f"\n{network.value} (limit {limits.max_graphemes} characters)")
        resolve = resolver_for(network)
        limit = limits.max_graphemes
        timed("baseline: copy each text", n, lambda: [p.text[:] for p in posts])
        timed(
            "baseline: naive code-point split",
            n,
            lambda limit=limit: [naive_split(p.text, limit) for p in posts],
        )
        _, naive_cpu = timed(
            "baseline: naive grapheme split",
            n,
            lambda limit=limit: [naive_grapheme_split(p.text, limit) for p in posts],
        )
        (ordered, _) = timed("plan: default filters + order", n, lambda: plan(posts))
        (every, _) = timed("order all posts (no filter)", n, lambda: order(posts))
        roots = thread_roots(every)
        pending = {p.id for p in every}

        def run(every=every, network=network, resolve=resolve, pending=pending, roots=roots):
            drafts = 0
            for post in every:
                drafts += len(
                    prepare(post, network, resolve_mention=resolve, pending=pending, roots=roots)
                )
            return drafts

        drafts, cpu = timed("prepare: every post", n, run)
        print(
            f"  → {drafts:,} drafts ({drafts / n:.2f} per post); prepare costs "
            f"{cpu / naive_cpu:.1f}× the naive grapheme split; default filters keep "
            f"{len(ordered):,} posts"
        )
        per_hour = 1666 if network is Network.BLUESKY else 100
        print(
            f"  publishing {drafts:,} posts takes ≥ {drafts / per_hour:,.0f} h at the network's "
            f"write limit ({per_hour:,}/h); preparing them took {cpu:.1f} CPU s"
        )
        ratio = cpu / naive_cpu
        print(
            f"  goal: prepare within 5x the naive grapheme split ({ratio:.1f}x): "
            f"{'goal met' if ratio <= 5 else 'GOAL MISSED'}"
        )


if __name__ == "__main__":
    main()
