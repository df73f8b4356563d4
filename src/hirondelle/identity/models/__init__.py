"""The directory's models, one per file."""

from hirondelle.identity.models.account_avatar import AccountAvatar
from hirondelle.identity.models.consent import Consent
from hirondelle.identity.models.evidence import DEFAULT_TRUST, Evidence
from hirondelle.identity.models.link import Link
from hirondelle.identity.models.link_conflict import LinkConflict
from hirondelle.identity.models.network_account import NetworkAccount
from hirondelle.identity.models.public_finding import PublicFinding
from hirondelle.identity.models.publisher_key import PublisherKey
from hirondelle.identity.models.report import REPORT_TEXT_MAX, ImpersonationReport
from hirondelle.identity.models.roster_import import RosterImport
from hirondelle.identity.models.user import User
from hirondelle.identity.models.x_account import XAccount, x_id_from_db, x_id_to_db

__all__ = [
    "DEFAULT_TRUST",
    "REPORT_TEXT_MAX",
    "AccountAvatar",
    "Consent",
    "Evidence",
    "ImpersonationReport",
    "Link",
    "LinkConflict",
    "NetworkAccount",
    "PublicFinding",
    "PublisherKey",
    "RosterImport",
    "User",
    "XAccount",
    "x_id_from_db",
    "x_id_to_db",
]
