"""The storage package's exceptions: one base class, small documented subclasses.

Driver and SQLAlchemy errors are translated into these where they enter our
code (opening a connection, migrating), so that callers such as the CLI can
print one readable line instead of a traceback.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised on purpose by :mod:`storage`."""


class DatabaseUnavailableError(StorageError):
    """The database cannot be reached or opened (server down, bad URL, unwritable file)."""


class SchemaError(StorageError):
    """The database schema cannot be used by this version of surveybot."""


class SchemaTooNewError(SchemaError):
    """The database was migrated by a newer surveybot than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"the database was written by a newer surveybot (revision {revision}); upgrade surveybot"
        )


class NotFoundError(StorageError):
    """A row named by the caller does not exist."""


class CampaignNotFoundError(NotFoundError):
    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"no campaign with id {campaign_id}; `surveybot campaign list` shows them")


class UnitNotFoundError(NotFoundError):
    def __init__(self, campaign_id: int, name: str) -> None:
        self.campaign_id = campaign_id
        self.name = name
        super().__init__(f"campaign {campaign_id} has no unit named {name!r}")


class ConflictError(StorageError):
    """The change contradicts data already stored (a duplicate name, a closed campaign...)."""


class DuplicateUnitError(ConflictError):
    def __init__(self, campaign_id: int, names: list[str]) -> None:
        self.campaign_id = campaign_id
        self.names = names
        listed = ", ".join(repr(name) for name in names)
        super().__init__(f"campaign {campaign_id} already has the unit(s) {listed}")


class InvalidValueError(StorageError, ValueError):
    """A value handed to a repository function is not acceptable (naive datetime, empty name...)."""
