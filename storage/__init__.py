"""Persistence: SQLAlchemy 2 models, async sessions, migrations and data functions.

Modules, one concept each:

* :mod:`storage.database` – :class:`~storage.database.Database`: the engine,
  write transactions (``BEGIN IMMEDIATE`` on SQLite) and read-only sessions.
* :mod:`storage.migrate` – Alembic migrations shipped in ``storage/migrations``;
  :func:`~storage.migrate.ensure_schema` before any use of a database.
* :mod:`storage.models` – the tables; :mod:`storage.types` – UTC datetimes.
* Data functions, all ``async`` with keyword-only arguments and a ``session``:
  :mod:`storage.surveys`, :mod:`storage.campaigns`, :mod:`storage.rosters`,
  :mod:`storage.invitations`, :mod:`storage.respondents`,
  :mod:`storage.responses`, :mod:`storage.attachments`, :mod:`storage.updates`,
  :mod:`storage.coordinators`, :mod:`storage.progress` (where a campaign
  stands), :mod:`storage.outbox` (reminders and broadcasts to send) and
  :mod:`storage.audience` (who receives them).
* :mod:`storage.errors` – :class:`~storage.errors.StorageError` and its subclasses.

Nothing here is imported by ``import storage`` itself, so that commands that do
not touch the database start without loading SQLAlchemy.
"""
