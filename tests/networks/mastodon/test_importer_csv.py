"""CSV files for Mastodon's own importer, and when to write them. No server here."""

from __future__ import annotations

import csv

import pytest

from hirondelle.networks.budget import Budget
from hirondelle.networks.mastodon import DEFAULT_POOLS, importer_advice, write_import_files
from hirondelle.networks.mastodon.importer_csv import (
    HEADERS,
    FollowingRow,
    ImportKind,
    MuteRow,
    api_follow_capacity,
    importer_url,
    spreadsheet_safe,
)


def read(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_following_file_has_mastodons_columns(tmp_path) -> None:
    rows = [
        "@Alice@Example.social",
        FollowingRow("bob@piaille.fr", show_boosts=False, notify=True, languages=("fr", "en")),
        "alice@example.social",  # the same account again: written once
    ]
    [path] = write_import_files("following", rows, tmp_path)
    assert path.name == "following.csv"
    assert read(path) == [
        ["Account address", "Show boosts", "Notify on new posts", "Languages"],
        ["Alice@example.social", "true", "false", ""],
        ["bob@piaille.fr", "false", "true", "fr, en"],
    ]


def test_blocks_mutes_and_lists(tmp_path) -> None:
    [blocks] = write_import_files(ImportKind.BLOCKS, ["troll@bad.example"], tmp_path)
    [mutes] = write_import_files(
        ImportKind.MUTES, ["loud@x.example", MuteRow("quiet@y.example", False)], tmp_path
    )
    [lists] = write_import_files(
        ImportKind.LISTS, [("Press, FR", "a@b.example"), ("Science", "c@d.example")], tmp_path
    )
    assert read(blocks) == [["Account address"], ["troll@bad.example"]]
    assert read(mutes)[1:] == [["loud@x.example", "true"], ["quiet@y.example", "false"]]
    assert read(mutes)[0] == list(HEADERS[ImportKind.MUTES])
    assert read(lists) == [
        ["List name", "Account address"],
        ["Press, FR", "a@b.example"],
        ["Science", "c@d.example"],
    ]


def test_large_sets_are_split_by_rows(tmp_path) -> None:
    handles = [f"user{i}@server{i % 7}.example" for i in range(45_001)]
    paths = write_import_files("following", handles, tmp_path)
    assert [p.name for p in paths] == ["following-1.csv", "following-2.csv", "following-3.csv"]
    counts = [len(read(p)) - 1 for p in paths]
    assert counts == [20_000, 20_000, 5_001]
    assert all(read(p)[0][0] == "Account address" for p in paths)
    written = [row[0] for p in paths for row in read(p)[1:]]
    assert written == handles


def test_large_sets_are_split_by_size(tmp_path) -> None:
    handles = [f"{'u' * 60}{i}@example.social" for i in range(100)]
    paths = write_import_files("blocks", handles, tmp_path, max_bytes=1_000)
    assert len(paths) > 1
    assert all(p.stat().st_size <= 1_000 for p in paths)
    assert [row[0] for p in paths for row in read(p)[1:]] == handles


def test_bad_rows_are_refused_with_the_expected_form(tmp_path) -> None:
    with pytest.raises(ValueError, match="user@server"):
        write_import_files("following", ["not an address"], tmp_path)
    with pytest.raises(ValueError, match="list name"):
        write_import_files("lists", ["a@b.example"], tmp_path)


def test_importer_advice_compares_the_plan_with_the_api_budget(clock_budget) -> None:
    budget, clock = clock_budget
    assert api_follow_capacity(budget) == 400
    budget.spend({"follows": 1}, count=150)
    clock.now += 3600
    assert api_follow_capacity(budget) == 250 + 400  # this window's rest, then a new one
    assert api_follow_capacity(budget, horizon=3600) == 250

    small = importer_advice(300, budget, "https://piaille.fr")
    assert not small.use_importer
    big = importer_advice(5_000, budget, "https://piaille.fr")
    assert big.use_importer
    assert big.days_by_api == 13
    assert big.upload_url == "https://piaille.fr/settings/imports"
    assert "https://piaille.fr/settings/imports" in big.message()


def test_importer_url_takes_a_bare_server_name() -> None:
    assert importer_url("mastodon.social") == "https://mastodon.social/settings/imports"


@pytest.fixture
def clock_budget():
    class Clock:
        now = 1_800_000_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    return Budget.from_dict({}, DEFAULT_POOLS, clock=clock), clock


def test_cells_a_spreadsheet_would_run_are_escaped(tmp_path) -> None:
    """OWASP CSV injection: a hostile server can name an account `=HYPERLINK(…)`,
    and a person may name a list `-2+3`; real addresses pass unchanged."""
    rows = [
        "=cmd|'calc'!A0@evil.example",
        "+1@evil.example",
        "-x@evil.example",
        "alice@example.social",
        "_bob@example.social",
        "9lives@example.social",
    ]
    [path] = write_import_files("blocks", rows, tmp_path)
    cells = [row[0] for row in read(path)[1:]]
    assert cells == [
        "'=cmd|'calc'!A0@evil.example",
        "'+1@evil.example",
        "'-x@evil.example",
        "alice@example.social",
        "_bob@example.social",
        "9lives@example.social",
    ]
    lists = [("=SUM(A1)", "alice@example.social"), ("-news", "alice@example.social")]
    [path] = write_import_files("lists", lists, tmp_path)
    assert read(path)[1:] == [
        ["'=SUM(A1)", "alice@example.social"],
        ["'-news", "alice@example.social"],
    ]
    assert spreadsheet_safe("\tx") == "'\tx"
    assert spreadsheet_safe("\rx") == "'\rx"
    assert spreadsheet_safe("@SUM(1)") == "'@SUM(1)"


def test_import_files_are_private(tmp_path) -> None:
    import stat

    [path] = write_import_files("following", ["alice@example.social"], tmp_path / "exports")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
