"""Fixtures for the archive reader tests: archives written by the generator."""

from __future__ import annotations

import builtins
import zipfile

import pytest

from hirondelle.archive import container
from tests.support.x_archive import POISON


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file and zip member the reader opens during the test, by name."""
    seen: list[str] = []
    real_zip_open = zipfile.ZipFile.open
    real_open = builtins.open

    def zip_open(self, name, mode="r", *args, **kwargs):
        if mode == "r":  # the generator writes members with mode "w"
            seen.append(name.filename if isinstance(name, zipfile.ZipInfo) else str(name))
        return real_zip_open(self, name, mode, *args, **kwargs)

    def file_open(file, *args, **kwargs):
        if not str(file).endswith(".zip"):  # the zip itself: its members are recorded below
            seen.append(str(file))
        return real_open(file, *args, **kwargs)

    # The reader opens zip members through its own central-directory reader.
    real_member_open = container.Container.open
    real_seekable = container.Container.seekable

    def member_open(self, name):
        seen.append(name)
        return real_member_open(self, name)

    def seekable(self, name):
        seen.append(name)
        return real_seekable(self, name)

    monkeypatch.setattr(container.Container, "open", member_open)
    monkeypatch.setattr(container.Container, "seekable", seekable)
    monkeypatch.setattr(zipfile.ZipFile, "open", zip_open)
    monkeypatch.setattr("hirondelle.archive.container.open", file_open, raising=False)
    return seen


def assert_no_private_opened(seen: list[str]) -> None:
    from tests.support.x_archive import PRIVATE_FILES, PRIVATE_MEDIA_DIRS

    for name in seen:
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        assert base not in PRIVATE_FILES, f"the reader opened the private file {name}"
        assert not any(f"/{d}/" in name for d in PRIVATE_MEDIA_DIRS), f"opened {name}"
    assert POISON  # the generator's marker exists
