"""Importing an archive as a migration: counts, idempotent re-import, gone rows."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hirondelle.archive import ArchiveError
from hirondelle.identity.models import User, XAccount, x_id_from_db, x_id_to_db
from hirondelle.migration.models import Direction, Edge, ImportedList, ImportedPost, Migration
from hirondelle.migration.services.importing import ImportRefused, import_archive, write_edges
from tests.support.x_archive import expected_lists, expected_posts, sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return User.objects.create(username="local")


def present(migration, direction):
    return {
        x_id_from_db(x)
        for x in Edge.objects.present()
        .filter(migration=migration, direction=direction)
        .values_list("x_account_id", flat=True)
    }


def test_import_reads_account_graph_lists_and_posts(tmp_path, owner):
    spec = sample_spec(seed=3, n_posts=20, n_following=40, n_followers=25)
    spec.lists_created = [*spec.lists_created, "https://x.com/i/lists/1"]
    archive = write_archive(tmp_path, spec)
    seen = []
    result = import_archive(archive, owner=owner, progress=lambda k, n: seen.append(k))
    m = result.migration
    assert result.created
    assert x_id_from_db(m.x_account_id) == int(spec.account.id)
    # The person's own name stays on their migration: the directory's row is not
    # an archive's to write (a forged archive could rename anyone).
    assert (m.x_username, m.x_display_name) == (spec.account.username, spec.account.display_name)
    assert XAccount.objects.get(id=m.x_account_id).username == ""
    assert present(m, Direction.FOLLOWING) == {int(x) for x in spec.following}
    assert present(m, Direction.FOLLOWERS) == {int(x) for x in spec.followers}
    assert present(m, Direction.BLOCKS) == {int(x) for x in spec.blocks}
    assert present(m, Direction.MUTES) == {int(x) for x in spec.mutes}
    assert result.counts == {
        "following": len(set(spec.following)),
        "followers": len(set(spec.followers)),
        "blocks": len(set(spec.blocks)),
        "mutes": len(set(spec.mutes)),
        "posts": len(expected_posts(spec)),
        "lists": len(expected_lists(spec)),
        # sample_spec's posts name accounts outside the graph only
        "named": {"following": 0, "followers": 0, "blocks": 0, "mutes": 0},
    }
    assert m.counts == result.counts
    assert m.generation == 1
    assert m.archive_generated_at == spec.generated_at
    assert m.profile["location"] == "Paris"
    assert {"following", "followers", "posts"} <= set(seen)
    assert sorted(ImportedList.objects.values_list("kind", "url")) == sorted(
        (str(ref.kind), ref.url) for ref in expected_lists(spec)
    )
    assert ("created", "https://x.com/i/lists/1") in ImportedList.objects.values_list("kind", "url")


def test_imported_posts_give_back_the_readers_records(tmp_path, owner):
    spec = sample_spec(seed=4, n_posts=30)
    result = import_archive(write_archive(tmp_path, spec), owner=owner)
    stored = {
        p.post_id: p.to_record() for p in ImportedPost.objects.filter(migration=result.migration)
    }
    expected = {p.id: p for p in expected_posts(spec)}
    assert stored == expected


def test_reimporting_the_same_archive_changes_nothing(tmp_path, owner):
    spec = sample_spec(seed=5, n_posts=10, n_following=30, n_followers=30)
    archive = write_archive(tmp_path, spec)
    first = import_archive(archive, owner=owner)
    before = sorted(Edge.objects.values_list("direction", "x_account_id", "gone_at"))
    second = import_archive(archive, owner=owner)
    assert not second.created
    assert second.migration.pk == first.migration.pk
    assert Migration.objects.count() == 1
    assert sorted(Edge.objects.values_list("direction", "x_account_id", "gone_at")) == before
    assert ImportedPost.objects.count() == first.counts["posts"]
    assert second.counts == first.counts
    assert set(second.gone.values()) == {0}
    assert second.migration.generation == 2


def test_a_newer_archive_marks_unfollows_gone_and_brings_returns_back(tmp_path, owner):
    spec = sample_spec(seed=6, n_posts=5, n_following=10, n_followers=5)
    import_archive(write_archive(tmp_path / "a", spec), owner=owner)
    dropped, kept = spec.following[0], spec.following[1:]
    newer = replace(
        spec,
        following=[*kept, "123456789"],
        generated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    result = import_archive(write_archive(tmp_path / "b", newer), owner=owner)
    m = result.migration
    assert result.gone["following"] == 1
    assert present(m, Direction.FOLLOWING) == {int(x) for x in [*kept, "123456789"]}
    gone = Edge.objects.get(
        migration=m, direction=Direction.FOLLOWING, x_account_id=x_id_to_db(dropped)
    )
    assert gone.gone_at is not None
    assert result.counts["following"] == len(kept) + 1
    # Following them again later brings the edge back, without a duplicate.
    again = replace(newer, following=spec.following, generated_at=datetime(2025, 6, 1, tzinfo=UTC))
    import_archive(write_archive(tmp_path / "c", again), owner=owner)
    gone.refresh_from_db()
    assert gone.gone_at is None
    assert Edge.objects.filter(migration=m, x_account_id=x_id_to_db(dropped)).count() == 1


def test_an_older_archive_is_refused_unless_asked(tmp_path, owner):
    spec = sample_spec(seed=7, n_posts=3, generated_at=datetime(2025, 5, 1, tzinfo=UTC))
    import_archive(write_archive(tmp_path / "new", spec), owner=owner)
    older = replace(spec, following=[], generated_at=datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ImportRefused, match="--allow-older"):
        import_archive(write_archive(tmp_path / "old", older), owner=owner)
    assert Edge.objects.present().filter(direction=Direction.FOLLOWING).count() == len(
        set(spec.following)
    )
    result = import_archive(write_archive(tmp_path / "old2", older), owner=owner, allow_older=True)
    assert result.counts["following"] == 0


def test_a_failed_import_leaves_the_previous_one(tmp_path, owner, monkeypatch):
    spec = sample_spec(seed=8, n_posts=3)
    archive = write_archive(tmp_path, spec)
    first = import_archive(archive, owner=owner)
    from hirondelle.migration.services import importing

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_import_posts", boom)
    with pytest.raises(RuntimeError):
        import_archive(archive, owner=owner)
    m = Migration.objects.get()
    assert m.generation == first.migration.generation
    assert not Edge.objects.filter(generation__gt=m.generation).exists()


def test_small_batches_and_duplicate_ids(tmp_path, owner):
    spec = sample_spec(seed=9, n_posts=2, n_following=25)
    spec.following = [*spec.following, spec.following[0], "not-an-id"]
    result = import_archive(write_archive(tmp_path, spec), owner=owner, batch_size=4)
    assert result.counts["following"] == 25
    assert result.skipped == 1


def test_write_edges_fresh_path_survives_duplicates(owner):
    m = Migration.objects.create(owner=owner, x_account=XAccount.objects.create(id=1))
    write_edges(m.pk, Direction.FOLLOWERS, [5, 6, 5], 1, fresh=True)
    write_edges(m.pk, Direction.FOLLOWERS, [6, 7], 1, fresh=True)
    assert present(m, Direction.FOLLOWERS) == {5, 6, 7}


def test_a_file_that_is_not_an_archive_is_refused(tmp_path, owner):
    bad = tmp_path / "notes.zip"
    bad.write_bytes(b"hello")
    with pytest.raises(ArchiveError):
        import_archive(bad, owner=owner)
    assert not Migration.objects.exists()


def test_x_ids_past_two_to_the_63_round_trip():
    for x in (1, 2**63 - 1, 2**63, 2**64 - 1):
        assert x_id_from_db(x_id_to_db(x)) == x
        assert -(2**63) <= x_id_to_db(x) < 2**63
    for bad in (0, -1, 2**64, "12a"):
        with pytest.raises(ValueError, match="not an X id"):
            x_id_to_db(bad)
