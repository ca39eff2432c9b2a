"""The coordinator console: the coordinator's web front, served under ``/admin`` (see ``docs/console.md``)."""
