"""The database handle: one async engine, write transactions and read-only sessions.

Use it as::

    database = Database.from_settings(settings)
    async with database.transaction() as session:   # commits, or rolls back on error
        ...
    async with database.read() as session:          # never writes
        ...
    await database.dispose()

SQLite (the default, a file in the data directory) is opened in WAL mode with
a busy timeout and foreign keys on. Every write transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock before its first read, so two
read-then-write transactions (in this process or another one) queue behind
each other instead of failing with "database is locked" on their first write.
Read-only sessions use a plain deferred ``BEGIN`` and never wait for writers.
This follows SQLAlchemy's recipe for the sqlite3/aiosqlite drivers: the
driver's own implicit BEGIN is switched off and we emit ours in the engine's
``begin`` event.

PostgreSQL runs the same code through ``postgresql+asyncpg://``; there,
``SELECT ... FOR UPDATE`` (``with_for_update()``, a no-op on SQLite) serialises
the updates of one row, and read-only sessions are ``READ ONLY`` transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.errors import DatabaseUnavailableError
from storage.group_commit import GroupCommit
from storage.sqlite_connection import sqlite_connector
from storage.write_queue import WriteQueue


class DatabaseLocation(Protocol):
    """Where the database is: what :meth:`Database.from_settings` reads (``bot.settings.Settings`` has it)."""

    @property
    def database_url(self) -> Any: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def resolved_database_url(self) -> str: ...


logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
#: How long opening a PostgreSQL connection may take.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10.0
#: File name of the default SQLite database inside the data directory.
SQLITE_FILE_NAME = "surveybot.db"

#: Execution option marking a connection whose transactions only read.
_READ_ONLY_OPTION = "surveybot_read_only"

_DRIVER_ALIASES: Mapping[str, str] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}
_SUPPORTED_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})


def display_url(url: str | URL) -> str:
    """The URL as it may be shown to people: the password replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the async driver surveybot uses for its backend.

    ``sqlite:///x.db`` becomes ``sqlite+aiosqlite:///x.db`` and
    ``postgresql://...`` becomes ``postgresql+asyncpg://...``.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise DatabaseUnavailableError(
            f"cannot parse the database URL {display_url(url)!s}; use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST:PORT/DATABASE"
        ) from None
    driver = _DRIVER_ALIASES.get(parsed.drivername, parsed.drivername)
    if driver not in _SUPPORTED_DRIVERS:
        raise DatabaseUnavailableError(
            f"unsupported database URL {display_url(parsed)}; use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST:PORT/DATABASE"
        )
    return parsed.set(drivername=driver)


def describe_connect_error(error: BaseException) -> str:
    """A short readable reason for a failure to connect."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return "timed out"
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def is_connect_error(error: BaseException) -> bool:
    """Whether ``error``, raised while opening a connection, means the database is unusable.

    Only call this for errors raised while connecting (or running the first
    statement): there any driver error means "cannot open the database" (server
    down, unknown database, bad password, unopenable or non-SQLite file).
    """
    return isinstance(error, (DBAPIError, OSError, TimeoutError, asyncio.TimeoutError)) or (_is_asyncpg_error(error))


def _is_asyncpg_error(error: BaseException | None) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(error, (asyncpg.PostgresError, asyncpg.InterfaceError))


class Database:
    """An async engine plus the session factories surveybot's code uses.

    ``schema`` (PostgreSQL only) puts every table in that schema through the
    connections' ``search_path``; the URL can say the same with
    ``?search_path=NAME``. Migrating creates the schema if it is missing.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        schema: str | None = None,
        pool_size: int | None = None,
    ) -> None:
        parsed = normalize_url(url)
        self.display_url = display_url(parsed)
        if parsed.get_backend_name() == "postgresql" and "search_path" in parsed.query:
            from_url = parsed.query["search_path"]
            schema = schema or (from_url if isinstance(from_url, str) else from_url[0])
            parsed = parsed.difference_update_query(["search_path"])
        self.url: URL = parsed
        self.schema = schema
        engine_options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            self._prepare_sqlite_file()
            # aiosqlite, with the calls that cannot block run on the loop's thread.
            engine_options["async_creator"] = sqlite_connector(
                self.url.database or ":memory:", timeout=SQLITE_BUSY_TIMEOUT_SECONDS
            )
        else:
            connect_args: dict[str, Any] = {"timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
            if schema:
                connect_args["server_settings"] = {"search_path": schema}
            engine_options["connect_args"] = connect_args
            engine_options["pool_pre_ping"] = True
        if pool_size is not None:
            engine_options["pool_size"] = pool_size
        try:
            self.engine: AsyncEngine = create_async_engine(self.url, **engine_options)
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise DatabaseUnavailableError(f"cannot use the database {self.display_url}: {error}") from None
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # SQLite has one writer at a time. Within this process, writers queue
        # here in arrival order (recording an inbound update first, see
        # storage.write_queue); otherwise they would poll in SQLite's busy
        # handler, whose growing sleeps (up to 100 ms each) make latency spiky.
        # Other processes are still held off by BEGIN IMMEDIATE and busy_timeout.
        self._write_lock: WriteQueue | None = WriteQueue() if self.is_sqlite else None
        #: SQLite: writers queued together share one COMMIT (see :meth:`grouped`).
        self.group_commit: GroupCommit | None = (
            GroupCommit(write_lock=self._write_lock, connect=self._open_connection, alone=self.transaction)
            if self._write_lock is not None
            else None
        )

    @classmethod
    def from_settings(cls, settings: DatabaseLocation, **options: Any) -> Database:
        """The database ``settings`` name (by default ``surveybot.db`` in the data directory)."""
        if not settings.database_url:
            try:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailableError(
                    f"cannot create the data directory {settings.data_dir}: {error.strerror}"
                ) from None
        return cls(settings.resolved_database_url, **options)

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect_name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect_name == "postgresql"

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailableError(
                f"cannot create the directory of the database {self.display_url}: {error.strerror}"
            ) from None

    def unavailable(self, error: BaseException) -> DatabaseUnavailableError:
        """The :class:`DatabaseUnavailableError` to raise for a connection failure."""
        return DatabaseUnavailableError(f"cannot open the database {self.display_url}: {describe_connect_error(error)}")

    def read_only_options(self) -> dict[str, Any]:
        """Execution options that make a connection's transactions read-only."""
        options: dict[str, Any] = {_READ_ONLY_OPTION: True}
        if self.is_postgresql:
            options["postgresql_readonly"] = True
        return options

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed at the end, rolled back on error.

        On SQLite the transaction holds the database's write lock from its
        start; on PostgreSQL lock the rows you read-then-write with
        ``with_for_update()``. ``urgent``: a short transaction somebody outside
        waits for (recording an inbound update before acknowledging it); on
        SQLite it goes before the ordinary writers this process has queued.
        """
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock.urgent() if urgent else self._write_lock)
            session = await stack.enter_async_context(self._sessions())
            await stack.enter_async_context(session.begin())
            await self._connect(session)
            yield session

    async def grouped(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in a write transaction that may be shared with other callers' (group commit).

        Like ``async with transaction() as session: return await work(session)``,
        and as durable: the result comes back once the transaction holding
        ``work``'s writes is committed. On SQLite, work items that queue while
        another transaction runs or commits share one transaction, each in its
        own savepoint and session, and one COMMIT (one fsync)
        (:mod:`storage.group_commit`). An exception ``work`` raises rolls back
        its own writes only. ``work`` may run twice (again alone, if its group
        cannot commit): it must do nothing outside the database that a second
        run would spoil. On PostgreSQL, which commits concurrent transactions
        in parallel, it is an ordinary transaction.
        """
        if self.group_commit is None:
            async with self.transaction() as session:
                return await work(session)
        return await self.group_commit.run(work)

    async def _open_connection(self) -> AsyncConnection:
        try:
            return await self.engine.connect()
        except Exception as error:
            if is_connect_error(error):
                raise self.unavailable(error) from error
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only; whatever it changed is rolled back at the end.

        The objects it loaded stay usable (detached, not expired) afterwards.
        """
        options = self.read_only_options()
        connection = await self._open_connection()
        try:
            await connection.execution_options(**options)
            # Closing the session ends its transaction with a rollback and,
            # unlike session.rollback(), leaves the loaded objects unexpired.
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                await self._connect(session)
                yield session
        finally:
            await connection.close()

    async def _connect(self, session: AsyncSession) -> None:
        """Open the session's connection now, translating a failure to connect."""
        try:
            await session.connection()
        except Exception as error:
            if is_connect_error(error):
                raise self.unavailable(error) from error
            raise

    async def check_connection(self) -> None:
        """Raise :class:`DatabaseUnavailableError` unless the database can be opened."""
        async with self.read():
            pass

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """Busy timeout, foreign keys, synchronous=FULL, and our own BEGIN (IMMEDIATE for writes)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop the sqlite3 driver from emitting BEGIN itself (and from leaving
        # SELECTs and DDL outside transactions); the "begin" hook does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL is switched on by sqlite_connector, before this hook runs.
            # FULL: a transaction acknowledged to a respondent survives a power cut too.
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
