"""Bad content becomes an ArchiveError; a bug in the reader does not.

If the reader turned every exception into an ArchiveError, the fuzz tests
(test_properties.py) could not tell a bug from a bad archive, and a person
would be told their archive is broken when the code is.
"""

from __future__ import annotations

import pytest

from hirondelle.archive import ArchiveError, open_archive
from hirondelle.archive import reader as reader_module
from tests.support.x_archive import sample_spec, write_archive


@pytest.fixture
def archive(tmp_path):
    return write_archive(tmp_path, sample_spec(seed=2, n_posts=5, n_following=4), zipped=False)


@pytest.mark.parametrize("bug", [TypeError, KeyError, AttributeError, IndexError])
def test_a_bug_while_reading_posts_surfaces(archive, monkeypatch, bug):
    def broken(*args, **kwargs):
        raise bug("a bug in the reader")

    monkeypatch.setattr(reader_module, "build_post", broken)
    with open_archive(archive) as opened, pytest.raises(bug):
        list(opened.posts())


def test_a_bug_while_opening_surfaces(archive, monkeypatch):
    def broken(self, *args, **kwargs):
        raise TypeError("a bug in the reader")

    monkeypatch.setattr(reader_module.XArchive, "__init__", broken)
    with pytest.raises(TypeError):
        open_archive(archive)


def test_bad_values_are_archive_errors(archive, monkeypatch):
    def bad_date(*args, **kwargs):
        raise ValueError("time data 'yesterday' does not match format")

    monkeypatch.setattr(reader_module, "build_post", bad_date)
    with open_archive(archive) as opened, pytest.raises(ArchiveError, match="unexpected content"):
        list(opened.posts())
