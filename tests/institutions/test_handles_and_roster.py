"""The PDS handle rules (pure) and the roster checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirondelle.institutions.models import Official
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.institutions.services.roster import check_roster, load_roster
from hirondelle.institutions.services.setup import add_institution
from hirondelle.networks.institution import handles
from tests.support.institution_roster import roster_csv


def test_short_names_keep_their_words():
    assert handles.service_label("Jean Dupont") == "jean-dupont"
    assert handles.service_label("Élodie N'Diaye") == "elodie-n-diaye"


def test_long_names_are_shortened_to_one_label_of_at_most_18():
    label = handles.service_label("Marie-Thérèse de La Rochefoucauld-Montbel")
    assert 3 <= len(label) <= 18
    assert "." not in label
    assert handles.full_name_label("Marie-Thérèse de La Rochefoucauld-Montbel") == (
        "marie-therese-de-la-rochefoucauld-montbel"
    )


def test_taken_labels_get_another_form_then_a_number():
    taken = {"jean-dupont", "jeandupont"}
    assert handles.service_label("Jean Dupont", taken.__contains__) not in taken
    label = handles.service_label("Jean Dupont", lambda lab: not lab[-1].isdigit())
    assert label[-1].isdigit()
    assert len(label) <= 18


@given(st.text(min_size=0, max_size=80))
def test_any_name_gives_a_valid_label(name):
    label = handles.service_label(name)
    assert 3 <= len(label) <= 18
    assert label == label.lower()
    assert label[0] != "-"
    assert label[-1] != "-"
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    assert label not in handles.RESERVED


def test_dns_record():
    assert handles.dns_txt_record("jean-dupont.deputes.example.fr", "did:plc:abc") == (
        '_atproto.jean-dupont.deputes.example.fr. 3600 IN TXT "did=did:plc:abc"'
    )


def test_roster_errors_are_listed_by_line():
    text = (
        "name;x_id;email;bluesky;fediverse\n"
        "Jean;12;jean@example.fr;;\n"
        ";x;not-mail;Bad Handle;nope\n"
        "Paul;12;jean@example.fr;;\n"
    )
    check = check_roster(text)
    assert not check.ok
    assert check.errors[0].startswith("line 3: no name")
    assert "is not an address (user@host)" in check.errors[0]
    assert "line 4" in check.errors[1]
    assert "same x_id as line 2" in check.errors[1]
    assert "same e-mail as line 2" in check.errors[1]
    assert check_roster("name,email\n").errors == ["The header must name x_id; found name, email."]


@pytest.mark.django_db
def test_loading_twice_updates_and_never_duplicates():
    inst = add_institution("t", "T")
    assert load_roster(inst, roster_csv(10)) == (10, 0)
    assert load_roster(inst, roster_csv(10)) == (0, 0)
    changed = roster_csv(10).replace("Groupe Bêta", "Groupe Delta")
    created, updated = load_roster(inst, changed)
    assert created == 0
    assert updated > 0
    assert Official.objects.filter(institution=inst).count() == 10
    with pytest.raises(InstitutionError, match="line 2"):
        load_roster(inst, "name,x_id,email\nX,1,bad\n")
