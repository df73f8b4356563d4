"""Every benchmark runs in its smallest mode, so that none rots unnoticed.

These tests assert no time (benchmarks print figures; they are not tests):
only that each bench runs to the end, measures its baseline in the same run,
and states whether its goal is met. The Bluesky batch bench is not here: it
needs the atproto stack (its adapter tests start that stack already).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
VERDICT = re.compile(r"goal met|GOAL MISSED")


def run_bench(tmp_path: Path, script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")}
    env["BENCH_OUT"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def test_archive_bench(tmp_path):
    out = run_bench(tmp_path, "archive_bench.py", "--smoke", "--out", str(tmp_path))
    for label in ("floor", "msgspec", "nogc", "inspect", "thread"):
        assert re.search(rf"^{label} +CPU", out, re.M), out
    assert len(VERDICT.findall(out)) == 4, out


def test_directory_bench(tmp_path):
    out = run_bench(
        tmp_path,
        "directory_bench.py",
        "--db",
        "sqlite",
        "--scale",
        "0.0005",
        "--snapshot-links",
        "500",
    )
    assert "baseline (plain executemany)" in out
    assert "one SQL join fetching the same" in out
    assert "import_snapshot (verify + merge)" in out
    assert "posts write path, fresh" in out
    assert len(VERDICT.findall(out)) == 7, out


def test_portal_pages_bench(tmp_path):
    out = run_bench(tmp_path, "portal_bench.py", "--pages", "--scale", "0.0005", "--repeat", "1")
    assert "baseline: the static privacy page" in out
    assert "/review/?direction=followers" in out
    assert VERDICT.search(out), out


def test_reconnect_pace_bench(tmp_path):
    out = run_bench(tmp_path, "reconnect_pace_bench.py", "--smoke")
    assert "Real run against mastodon-mock on 127.0.0.1" in out
    for label in ("hirondelle runner", "until refused", "fixed pace", "reads the headers"):
        assert label in out
    assert VERDICT.search(out), out


def test_compose_bench(tmp_path):
    out = run_bench(tmp_path, "compose_bench.py", "--scale", "0.005")
    assert "prepare: every post" in out
    assert len(VERDICT.findall(out)) == 2, out
