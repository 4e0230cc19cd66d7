"""pytest plugin: ``pytest --submission FILE`` runs an exercise's checks as tests (placeholder)."""
