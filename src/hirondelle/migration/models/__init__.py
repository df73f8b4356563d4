"""Models of a migration, one per file."""
