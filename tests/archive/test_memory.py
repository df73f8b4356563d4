"""Graph files are streamed: memory stays near one chunk, whatever the file size."""

from __future__ import annotations

import tracemalloc

from hirondelle.archive import open_archive
from hirondelle.archive.jsfile import CHUNK_BYTES
from tests.support.x_archive import pack, render_files, sample_spec

_ITEM = (
    '  {{\n    "follower" : {{\n      "accountId" : "{0}",\n'
    '      "userLink" : "https://twitter.com/intent/user?user_id={0}"\n    }}\n  }}'
)


def _peak_reading_followers(tmp_path, n: int) -> tuple[int, int]:
    files = render_files(sample_spec(1, n_posts=3))
    body = ",\n".join(_ITEM.format(10**15 + i) for i in range(n))
    files["data/follower.js"] = f"window.YTD.follower.part0 = [\n{body}\n]".encode()
    size = len(files["data/follower.js"])
    del body
    path = pack(tmp_path / str(n), files)
    del files
    with open_archive(path) as archive:
        tracemalloc.start()
        try:
            count = sum(1 for _ in archive.followers())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert count == n
    return size, peak


def test_follower_file_is_streamed_not_loaded(tmp_path) -> None:
    small_size, small_peak = _peak_reading_followers(tmp_path, 100_000)
    big_size, big_peak = _peak_reading_followers(tmp_path, 400_000)
    assert big_size > 4 * small_size - (1 << 20)
    # Four times the data, about the same memory: a few chunks, never the file.
    assert big_peak < small_peak * 1.3 + (1 << 20), (small_peak, big_peak)
    assert big_peak < 6 * CHUNK_BYTES < big_size / 2
