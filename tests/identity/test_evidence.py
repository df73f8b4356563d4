import pytest

from hirondelle.identity.models import DEFAULT_TRUST, Evidence


def test_strength_order_is_oauth_roster_domain_bridge_two_way_self_claim_name():
    ordered = sorted(Evidence, key=lambda e: e.strength, reverse=True)
    assert [e.value for e in ordered] == [
        "x_oauth",
        "roster",
        "domain",
        "bridge",
        "two_way",
        "self",
        "profile_claim",
        "name_match",
    ]
    assert len({e.strength for e in Evidence}) == len(Evidence)


def test_default_trust_leaves_self_and_bridge_for_review():
    assert Evidence.SELF.strength < DEFAULT_TRUST.strength
    assert Evidence.BRIDGE.strength < DEFAULT_TRUST.strength
    assert Evidence.ROSTER.strength >= DEFAULT_TRUST.strength


@pytest.mark.parametrize("kind", ["two_way", "profile_claim", "name_match"])
def test_what_discovery_finds_is_never_acted_on_at_the_default_trust(kind):
    assert Evidence(kind).strength < Evidence.DOMAIN.strength
    assert Evidence(kind).strength < DEFAULT_TRUST.strength


def test_parse_names_valid_values():
    with pytest.raises(
        ValueError,
        match="x_oauth, roster, domain, bridge, two_way, self, profile_claim, name_match",
    ):
        Evidence.parse("oauth")


def test_discovery_names_its_evidence_as_the_directory_ranks_it():
    from hirondelle.discovery import DISCOVERY_EVIDENCE

    assert all(Evidence(v) for v in DISCOVERY_EVIDENCE)
    ranked = sorted(DISCOVERY_EVIDENCE, key=lambda v: Evidence(v).strength, reverse=True)
    assert list(DISCOVERY_EVIDENCE) == ranked


def test_the_command_line_offers_every_evidence_in_order():
    from hirondelle.cli._django import EVIDENCE_NAMES

    assert [e.value for e in Evidence] == EVIDENCE_NAMES
