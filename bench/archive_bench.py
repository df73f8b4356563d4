"""Benchmark: `hirondelle archive inspect --json` against the strongest simple ways.

Generates once (cached under bench/out/) an X archive with 200,000 posts in
three tweets parts and 2,000,000 followers (~550 MB of JSON, in ~100 MiB
parts as X writes them), then runs, in the same session and as separate
processes, each under /usr/bin/time for its own peak RSS:

- `hirondelle archive inspect --json ARCHIVE`;
- baseline "typed msgspec": for each data file inspect reads, read it whole
  from the zip, strip the `window.YTD… =` prefix and decode it with msgspec
  into typed structs that declare only the fields inspect counts (what a
  skilled engineer would write; the standard library's json is 3-4x slower);
- the same with `gc=False` structs ("nogc"), msgspec's documented speed-up
  for acyclic data: a stronger baseline than the issue's, printed beside it;
- baseline "decompression floor": just decompress the same files, in 1 MiB
  reads (no reader can be faster than this).

Goals: inspect at most 2x the floor, faster than the typed msgspec decode,
at under 0.1x its peak RSS, judged on CPU seconds (user + system: the
machine is shared). Each run's time is the median of `--repeat`. inspect
can inflate big members in a second thread (HIRONDELLE_ARCHIVE_THREADS=1;
zlib releases the GIL): that can only lower its wall time, never its CPU
time; the bench runs it that way too, and pinned to one core
(`taskset -c 0`) for its single-core wall time. `--full` adds inspect
building every post (the import's path, the reference the counting pass is
tested against) for comparison.

    .venv/bin/python bench/archive_bench.py            # full size
    .venv/bin/python bench/archive_bench.py --scale 0.1 --repeat 3
    .venv/bin/python bench/archive_bench.py --smoke    # tiny, for the test that keeps it working
    .venv/bin/python bench/archive_bench.py --full     # also the build-every-post path
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.x_archive import render_files, sample_spec  # noqa: E402

OUT = ROOT / "bench" / "out"
PART_BYTES = 100 << 20  # X splits data files at about 100 MiB

_FOLLOWER = (
    '  {{\n    "follower" : {{\n      "accountId" : "{0}",\n'
    '      "userLink" : "https://twitter.com/intent/user?user_id={0}"\n    }}\n  }}'
)

TYPED = r"""
import json, sys, zipfile
import msgspec

class Edit(msgspec.Struct):
    editTweetIds: list[str] | None = None

class EditInfo(msgspec.Struct):
    initial: Edit | None = None

class Media(msgspec.Struct):
    type: str | None = None

class Entities(msgspec.Struct):
    media: list[Media] | None = None

class Tweet(msgspec.Struct):
    id_str: str | None = None
    full_text: str | None = None
    created_at: str | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    extended_entities: Entities | None = None
    edit_info: EditInfo | None = None

class TweetItem(msgspec.Struct):
    tweet: Tweet | None = None

class Note(msgspec.Struct):
    noteTweetId: str | None = None
    createdAt: str | None = None

class NoteItem(msgspec.Struct):
    noteTweet: Note | None = None

class Account(msgspec.Struct):
    accountId: str | None = None

def graph(key):
    return msgspec.defstruct("G" + key, [(key, Account | None, None)])

class Like(msgspec.Struct):
    tweetId: str | None = None

class LikeItem(msgspec.Struct):
    like: Like | None = None

class ListInfo(msgspec.Struct):
    url: str | None = None
    urls: list[str] | None = None

class ListItem(msgspec.Struct):
    userListInfo: ListInfo | None = None

TYPES = {
    "tweets": TweetItem, "community-tweet": TweetItem, "note-tweet": NoteItem,
    "following": graph("following"), "follower": graph("follower"),
    "block": graph("blocking"), "mute": graph("muting"), "like": LikeItem,
    "lists-created": ListItem, "lists-member": ListItem, "lists-subscribed": ListItem,
}
decoders = {k: msgspec.json.Decoder(list[t]) for k, t in TYPES.items()}
path = sys.argv[1]
total = items = 0
with zipfile.ZipFile(path) as z:
    for arg in sys.argv[2:]:
        base, name = arg.split(":", 1)
        raw = z.read(name)
        total += len(raw)
        body = memoryview(raw)[raw.index(b"=", 0, 1024) + 1 :]
        data = decoders[base].decode(body)
        items += len(data)
        del body, raw, data
print(json.dumps({"bytes": total, "items": items}))
"""

#: The same with `gc=False` structs (msgspec's documented speed-up for data
#: without reference cycles): one flag a skilled engineer could add.
TYPED_NOGC = TYPED.replace("(msgspec.Struct)", "(msgspec.Struct, gc=False)").replace(
    "[(key, Account | None, None)])", "[(key, Account | None, None)], gc=False)"
)

FLOOR = r"""
import json, sys, zipfile
path = sys.argv[1]
total = 0
with zipfile.ZipFile(path) as z:
    for arg in sys.argv[2:]:
        with z.open(arg.split(":", 1)[1]) as fh:
            while block := fh.read(1 << 20):
                total += len(block)
print(json.dumps({"bytes": total}))
"""

FULL = r"""
import json, sys
from hirondelle.archive import open_archive, summarize
with open_archive(sys.argv[1]) as archive:
    print(json.dumps(summarize(archive, fast=False), ensure_ascii=False))
"""

BASES = (
    "account",
    "profile",
    "tweets",
    "community-tweet",
    "note-tweet",
    "following",
    "follower",
    "block",
    "mute",
    "like",
    "lists-created",
    "lists-member",
    "lists-subscribed",
)


def build(scale: float) -> Path:
    n_posts = int(200_000 * scale)
    n_followers = int(2_000_000 * scale)
    path = OUT / f"twitter-2024-05-01-bench-{n_posts}p-{n_followers}f.zip"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"generating {path.name} (once) …", file=sys.stderr)
    spec = sample_spec(7, n_posts=n_posts, n_following=int(1500 * scale) + 10, n_followers=0)
    files = render_files(spec, era="2024", parts={"tweets": 3})
    tmp = path.with_suffix(".tmp")
    rng = random.Random(11)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in files.items():
            if name.startswith("data/follower"):
                continue
            z.writestr(name, blob)
        # Followers streamed in ~100 MiB parts, in X's layout.
        part, written, first, n = 0, 0, True, 0
        fh = None

        def open_part(k: int):
            name = "data/follower.js" if k == 0 else f"data/follower-part{k}.js"
            out = z.open(name, "w", force_zip64=True)
            out.write(f"window.YTD.follower.part{k} = [\n".encode())
            return out

        fh = open_part(0)
        while n < n_followers:
            ids = [str(rng.randrange(10**6, 10**19)) for _ in range(min(10_000, n_followers - n))]
            n += len(ids)
            chunk = ",\n".join(_FOLLOWER.format(i) for i in ids).encode()
            if not first:
                chunk = b",\n" + chunk
            fh.write(chunk)
            written += len(chunk)
            first = False
            if written >= PART_BYTES and n < n_followers:
                fh.write(b"\n]")
                fh.close()
                part += 1
                fh = open_part(part)
                written, first = 0, True
        fh.write(b"\n]")
        fh.close()
    tmp.rename(path)
    print(f"generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path


def run_measured(cmd: list[str]) -> tuple[float, float, int, bytes]:
    """Wall seconds, CPU seconds (user + system), peak RSS (bytes) and stdout of one child.

    The child runs under /usr/bin/time, a small C process, so its peak RSS is
    its own: a child forked straight from this (larger) Python process would
    inherit this process's pages in its `ru_maxrss` until it execs.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", report.name, *cmd],
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{proc.stderr.decode()}")
        user, system, peak_kib = report.read().split()[-3:]
    return wall, float(user) + float(system), int(peak_kib) * 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is kept")
    parser.add_argument("--smoke", action="store_true", help="a tiny archive, one run of each")
    parser.add_argument("--out", type=Path, help="where generated archives are cached")
    parser.add_argument(
        "--full", action="store_true", help="also time inspect building every post (slow)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.scale, args.repeat = 0.002, 1
    global OUT
    OUT = args.out or OUT
    path = build(args.scale)
    sys.path.insert(0, str(ROOT / "src"))
    from hirondelle.archive import open_archive

    with open_archive(path) as archive:
        names = [f"{base}:{n}" for base in BASES for n in archive.data_files(base)]
        json_bytes = archive.data_size()
    counted = [n for n in names if n.split(":")[0] not in ("account", "profile")]
    zip_mb = path.stat().st_size / 1e6
    print(f"archive: {path.name}, {zip_mb:.0f} MB zip, {json_bytes / 1e6:.0f} MB JSON")
    inspect = [sys.executable, "-m", "hirondelle", "archive", "inspect", "--json", str(path)]
    commands = {
        "floor": [sys.executable, "-c", FLOOR, str(path), *counted],
        "msgspec": [sys.executable, "-c", TYPED, str(path), *counted],
        "nogc": [sys.executable, "-c", TYPED_NOGC, str(path), *counted],
        "inspect": inspect,
    }
    threaded = ["env", "HIRONDELLE_ARCHIVE_THREADS=1", *inspect]
    commands["thread"] = threaded
    if shutil.which("taskset"):
        commands["thread1c"] = ["taskset", "-c", "0", *threaded]
    if args.full:
        commands["full"] = [sys.executable, "-c", FULL, str(path)]
    cores = len(os.sched_getaffinity(0))
    print(
        f"{cores} cores (load average {os.getloadavg()[0]:.1f}). `thread` is inspect inflating "
        "in a second thread (HIRONDELLE_ARCHIVE_THREADS=1): its wall time may use two cores, "
        "its CPU time counts both; `thread1c` is the same pinned to one core"
    )
    runs: dict[str, list[tuple[float, float, int]]] = {label: [] for label in commands}
    outputs: dict[str, bytes] = {}
    for _ in range(args.repeat):
        for label, cmd in commands.items():
            wall, cpu, rss, out = run_measured(cmd)
            runs[label].append((wall, cpu, rss))
            outputs[label] = out
    counts = json.loads(outputs["inspect"])["counts"]
    print(f"inspect counted {counts['posts']:,} posts, {counts['followers']:,} followers")
    if "full" in outputs:
        same = json.loads(outputs["full"]) == json.loads(outputs["inspect"])
        print(f"inspect's summary equals the build-every-post summary: {same}")
    result = {}
    print("times are medians; the goals are judged on CPU seconds (the machine may be shared)")
    for label, measured in runs.items():
        wall = statistics.median(w for w, _, _ in measured)
        cpu = statistics.median(c for _, c, _ in measured)
        rss = max(r for _, _, r in measured)
        result[label] = (cpu, rss, wall)
        times = ", ".join(f"{c:.2f}" for _, c, _ in measured)
        print(
            f"{label:8s} CPU {cpu:6.2f} s ({json_bytes / 1e6 / cpu:6.1f} MB/s)  "
            f"wall {wall:6.2f} s  "
            f"peak RSS {rss / 2**20:5.0f} MiB   (CPU runs: {times} s)"
        )
    (fw, _fr, fwall), (mw, mr, mwall) = result["floor"], result["msgspec"]
    iw, ir, iwall = result["inspect"]
    goals = [
        (f"time: inspect is {iw / fw:.2f}x the decompression floor", iw / fw <= 2.0, "<= 2.00x"),
        (f"time: inspect is {iw / mw:.2f}x the typed msgspec decode", iw < mw, "< 1.00x"),
        (
            f"memory: inspect peaks at {ir / mr:.3f}x the typed msgspec decode",
            ir / mr < 0.1,
            "< 0.100x",
        ),
    ]
    gw = result["nogc"][0]
    goals.append(
        (
            f"time: inspect is {iw / gw:.2f}x the typed msgspec decode with gc=False structs "
            "(a stronger baseline than the issue's)",
            iw < gw,
            "< 1.00x",
        )
    )
    for text, met, goal in goals:
        print(f"{text} (goal {goal}): {'goal met' if met else 'GOAL MISSED'}")
    # What the 2x goal leaves for everything but decoding: a reader that checks
    # the JSON as msgspec does cannot decode for less than the baselines do.
    print(
        "for the 2x goal: inflating and decoding (typed msgspec, counting nothing) take "
        f"{mw / fw:.2f}x the floor, {gw / fw:.2f}x with gc=False; that leaves "
        f"{max(0.0, 2 * fw - gw):.2f} s "
        f"of CPU for inflating checks (CRC), edits, dates, long-post notes and counting "
        f"{counts['posts']:,} posts; inspect spends {max(0.0, iw - gw):.2f} s on them"
    )
    print(
        f"for information, wall times (not the goal): inspect {iwall / fwall:.2f}x the floor, "
        f"{iwall / mwall:.2f}x the typed msgspec decode"
        + f"; with the thread {result['thread'][2] / fwall:.2f}x the floor"
        + (
            f", pinned to one core {result['thread1c'][2] / fwall:.2f}x"
            if "thread1c" in result
            else ""
        )
    )


if __name__ == "__main__":
    main()
