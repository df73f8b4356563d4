"""Institution services: the CLI and the portal call these, nothing else."""
