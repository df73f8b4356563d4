from hirondelle.institutions.models.institution import Institution, ResetEmail, Server
from hirondelle.institutions.models.official import Official
from hirondelle.institutions.models.pack import Pack, PackMember
from hirondelle.institutions.models.roster_follow import RosterFollow

__all__ = ["Institution", "Official", "Pack", "PackMember", "ResetEmail", "RosterFollow", "Server"]
