"""Errors of the institution services; messages say what to do."""


class InstitutionError(Exception):
    """Something an operator must fix (a roster row, a missing credential)."""
