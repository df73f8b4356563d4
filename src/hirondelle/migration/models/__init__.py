"""Models of a migration, one per file."""

from hirondelle.migration.models.archive_name import ArchiveName
from hirondelle.migration.models.candidate_face import CandidateFace
from hirondelle.migration.models.connected_account import ConnectedAccount
from hirondelle.migration.models.discovery_candidate import DiscoveryCandidate
from hirondelle.migration.models.discovery_run import DiscoveryRun
from hirondelle.migration.models.edge import Direction, Edge
from hirondelle.migration.models.imported_list import ImportedList
from hirondelle.migration.models.imported_post import ImportedPost
from hirondelle.migration.models.list_rebuild import ListRebuild
from hirondelle.migration.models.migration import Migration
from hirondelle.migration.models.plan_item import PlanItem
from hirondelle.migration.models.retired_credentials import RetiredCredentials
from hirondelle.migration.models.shared_budget import SharedBudget

__all__ = [
    "ArchiveName",
    "CandidateFace",
    "ConnectedAccount",
    "Direction",
    "DiscoveryCandidate",
    "DiscoveryRun",
    "Edge",
    "ImportedList",
    "ImportedPost",
    "ListRebuild",
    "Migration",
    "PlanItem",
    "RetiredCredentials",
    "SharedBudget",
]
