import pytest

from hirondelle.identity.models import Consent, Link
from hirondelle.identity.services.errors import RosterError
from hirondelle.identity.services.roster import import_roster

pytestmark = pytest.mark.django_db


def test_a_roster_publishes_findable_roster_links(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text(
        "x_id;x_username;fediverse;bluesky;bluesky_did\n"
        "24744541;lemonde;lemonde@mastodon.social;lemonde.fr;did:plc:lemonde\n"
        "555;MairieDeLyon;;mairie.lyon.fr;\n"
        ";@mairiedelyon;lyon@social.lyon.fr;;\n"  # resolved by the line above
    )
    result = import_roster(csv, institution="Le Monde", auto_followable=True)
    assert (result.accounts, result.stats.created, result.waiting) == (3, 4, ())
    links = Link.objects.order_by("x_account_id", "network")
    assert [(link.x_account_id, link.network, link.evidence) for link in links] == [
        (555, "bluesky", "roster"),
        (555, "mastodon", "roster"),
        (24744541, "bluesky", "roster"),
        (24744541, "mastodon", "roster"),
    ]
    assert {link.asserted_by for link in links} == {"roster: Le Monde"}
    consent = Consent.objects.get(x_account_id=24744541)
    assert (consent.findable, consent.auto_followable, consent.source) == (True, True, "roster")


def test_a_bad_roster_is_refused_whole_with_every_problem(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text(
        "x_id,x_username,fediverse,bluesky\n"
        "1,a,a@b.social,\n"
        "zz,b,b@b.social,\n"
        ",unknown,c@b.social,\n"
        "4,d,,\n"
    )
    with pytest.raises(RosterError) as caught:
        import_roster(csv, institution="X")
    message = str(caught.value)
    assert "line 3" in message
    assert "line 4" not in message  # a username only: it waits, it is not wrong
    assert "line 5" in message
    assert "line 2" not in message
    assert not Link.objects.exists()


def test_a_roster_without_the_needed_columns_says_so(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text("name,email\nA,a@b.c\n")
    with pytest.raises(RosterError, match="header must name an X column"):
        import_roster(csv, institution="X")
