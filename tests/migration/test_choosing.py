"""One way to choose the migration and the connected account, for the CLI and the pages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.choosing import ChoiceError, choose_account, choose_migration
from hirondelle.migration.services.importing import import_archive
from hirondelle.portal.services.current import current_migration
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are translated; these tests read the English ones."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def two_imports(person, tmp_path):
    first = import_archive(write_archive(tmp_path / "a", sample_spec(1, n_posts=3)), owner=person)
    second = import_archive(write_archive(tmp_path / "b", sample_spec(2, n_posts=3)), owner=person)
    return first.migration, second.migration


def _account(user, network, handle):
    return ConnectedAccount.objects.create(
        user=user, network=network, handle=handle, remote_id=f"{network}:{handle}"
    )


def test_migration_by_name_by_id_else_the_last_imported(person, two_imports) -> None:
    first, second = two_imports
    assert choose_migration(person) == second
    assert current_migration(person) == second  # the page chooses the same way
    assert choose_migration(person, "@swallow1") == first
    assert choose_migration(person, str(first.x_account_id)) == first
    with pytest.raises(ChoiceError, match="No imported archive of the X account nobody"):
        choose_migration(person, "nobody")


def test_nothing_imported(person) -> None:
    with pytest.raises(ChoiceError, match="Nothing imported yet"):
        choose_migration(person)
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ChoiceError, match="Rien d’importé"):
        choose_migration(person)


def test_account_by_id_only_among_ones_own(person, django_user_model) -> None:
    mine = _account(person, "bluesky", "me.test")
    other = _account(django_user_model.objects.create(username="bob"), "bluesky", "bob.test")
    assert choose_account(person, pk=mine.pk) == mine
    for wanted in (other.pk, "junk", 10**9):
        with pytest.raises(ChoiceError, match="No such connected account"):
            choose_account(person, pk=wanted)


def test_account_by_network_and_handle(person) -> None:
    sky = _account(person, "bluesky", "me.test")
    a = _account(person, "mastodon", "me@a.example")
    b = _account(person, "mastodon", "me@b.example")
    assert choose_account(person, network="bluesky") == sky
    assert choose_account(person, network="mastodon", handle="@ME@b.example") == b
    with pytest.raises(ChoiceError, match=r"Several connected accounts \(me@a.example, me@b"):
        choose_account(person, network="mastodon")
    assert choose_account(person, handle="me@a.example") == a
    with pytest.raises(ChoiceError, match="No connected account x@y"):
        choose_account(person, handle="x@y")


def test_the_command_line_chooses_through_the_same_service(person, two_imports, monkeypatch):
    import importlib

    for module in ("hirondelle.cli.match", "hirondelle.cli.directory"):  # the click commands
        # (imported here: the command line imports a command's module when it runs)
        monkeypatch.setattr(importlib.import_module(module), "local_user", lambda: person)
    result = CliRunner().invoke(main, ["directory", "consent", "--findable"])
    assert result.exit_code == 0, result.output
    assert "Using @swallow2, the last of 2 imported X accounts" in result.output
    assert "@swallow2: findable" in result.output
    result = CliRunner().invoke(main, ["directory", "consent", "--account", "nobody"])
    assert result.exit_code == 1
    assert "No imported archive of the X account nobody" in result.output
