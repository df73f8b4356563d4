"""Benchmark: `hirondelle archive inspect --json` against the naive way.

Generates once (cached under bench/out/) an X archive with 200,000 posts in
three tweets parts and 2,000,000 followers (~550 MB of JSON, in ~100 MiB
parts as X writes them), then runs, in the same session and as separate
processes:

- `hirondelle archive inspect --json ARCHIVE`
- the naive way: for each data file inspect reads, read it whole from the zip,
  strip the `window.YTD… =` prefix and `json.loads` it.

It prints wall time, throughput (MB of JSON per second) and peak RSS of both,
and the ratios. Target: at least as fast as naive, peak RSS at most 1/4.

    .venv/bin/python bench/archive_bench.py            # full size
    .venv/bin/python bench/archive_bench.py --scale 0.1
"""

from __future__ import annotations

import argparse
import json
import random
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

NAIVE = r"""
import json, re, sys, zipfile
path = sys.argv[1]
names = sys.argv[2:]
total = 0
items = 0
with zipfile.ZipFile(path) as z:
    for name in names:
        raw = z.read(name)
        total += len(raw)
        text = raw.decode("utf-8")
        del raw
        body = text[text.index("=", 0, 1024) + 1 :]
        del text
        data = json.loads(body)
        del body
        items += len(data)
        del data
print(json.dumps({"bytes": total, "items": items}))
"""


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


def run_measured(cmd: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (bytes) and stdout of one child process.

    The child runs under /usr/bin/time, a small C process, so its peak RSS is
    its own: a child forked straight from this (larger) Python process would
    inherit this process's pages in its `ru_maxrss` until it execs.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name, *cmd], capture_output=True, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{proc.stderr.decode()}")
        peak_kib = int(report.read().split()[-1])
    return wall, peak_kib * 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best time is kept")
    args = parser.parse_args()
    path = build(args.scale)
    sys.path.insert(0, str(ROOT / "src"))
    from hirondelle.archive import open_archive

    with open_archive(path) as archive:
        names = [
            n
            for base in (
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
            for n in archive.data_files(base)
        ]
        json_bytes = archive.data_size()
    zip_mb = path.stat().st_size / 1e6
    print(f"archive: {path.name}, {zip_mb:.0f} MB zip, {json_bytes / 1e6:.0f} MB JSON")
    inspect_cmd = [sys.executable, "-m", "hirondelle", "archive", "inspect", "--json", str(path)]
    naive_cmd = [sys.executable, "-c", NAIVE, str(path), *names]
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.repeat):
        for label, cmd in (("naive", naive_cmd), ("inspect", inspect_cmd)):
            wall, rss, out = run_measured(cmd)
            prev = best.get(label)
            best[label] = (min(wall, prev[0]) if prev else wall, max(rss, prev[1]) if prev else rss)
            if label == "inspect":
                counts = json.loads(out)["counts"]
                print(
                    f"inspect counted {counts['posts']:,} posts, {counts['followers']:,} followers"
                )
    for label, (wall, rss) in best.items():
        rate = json_bytes / 1e6 / wall
        print(f"{label:8s} {wall:7.2f} s  {rate:7.1f} MB/s  peak RSS {rss / 2**20:7.0f} MiB")
    (nw, nr), (iw, ir) = best["naive"], best["inspect"]
    print(f"speed: inspect is {nw / iw:.2f}x the naive way (target >= 1.00)")
    print(f"memory: inspect uses {ir / nr:.3f} of the naive peak (target <= 0.250)")


if __name__ == "__main__":
    main()
