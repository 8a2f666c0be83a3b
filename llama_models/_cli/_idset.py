"""`IdSet`: the ``custom_id``\\ s a ``llama-models batch`` run has seen, kept on disk.

A run remembers every id it meets, to skip the ids already in the output and to
report duplicates in the input. Kept in memory that grows with the input (16 bytes
an id as 64-bit digests, ~100 as a Python set); here it is a table in SQLite's
anonymous temporary database, so the process holds only a bounded page cache
however many lines the input has.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from ..errors import LlamaError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["IdSet"]

#: The most memory the page cache of one set takes, in KiB (``PRAGMA cache_size``).
CACHE_KIB = 2048
#: Inserts made in one transaction: committing each alone would write a page each time.
_BATCH = 8192

_PRAGMAS = (
    f"cache_size = -{CACHE_KIB}",
    # The file is scratch: a crash loses it anyway, so no journal and no syncing.
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    "temp_store = FILE",
)
_CREATE = "CREATE TABLE ids (id BLOB PRIMARY KEY) WITHOUT ROWID"
_INSERT = "INSERT OR IGNORE INTO ids (id) VALUES (?)"
_SELECT = "SELECT 1 FROM ids WHERE id = ?"


class IdSet:
    """A set of strings kept on disk, in memory that stays flat however many it holds.

    ::

        with IdSet() as ids:
            ids.add("a")  # True: it was new
            ids.add("a")  # False
            "a" in ids, len(ids)  # True, 1

    The ids are kept whole (their UTF-8 bytes), so two ids are never taken for one.
    They live in a ``WITHOUT ROWID`` table of SQLite's anonymous temporary database:
    pages beyond a 2 MiB cache go to a file in the temporary directory
    (``$SQLITE_TMPDIR``, ``$TMPDIR``, else ``/var/tmp`` or ``/tmp``) that SQLite
    unlinks as soon as it has opened it (on Windows, deletes when it is closed), so
    no file is left behind, whether the run ends, fails, is interrupted or is killed.
    Inserts are committed a few thousand at a time; an add or a lookup costs a few
    microseconds. The database is opened at the first `add` and freed by `close` (or
    the end of the ``with`` block); a set used after it is closed raises ``ValueError``.

    Raises (`add`, `__contains__`):
        LlamaError: the temporary file cannot be written (a full disk, a temporary
            directory that is not writable).
    """

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._size = 0
        self._pending = 0
        self._closed = False

    def __enter__(self) -> IdSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database: SQLite deletes its file. Closing again does nothing."""
        self._closed = True
        db, self._db, self._cursor = self._db, None, None
        if db is not None:
            db.close()  # uncommitted inserts are dropped with the file: nothing to keep

    def __len__(self) -> int:
        return self._size

    def add(self, key: str) -> bool:
        """Add *key*; return whether it was new."""
        cursor = self._cursor or self._open()
        try:
            if not self._pending:
                cursor.execute("BEGIN")
            cursor.execute(_INSERT, (_encode(key),))
            new = cursor.rowcount == 1
            self._pending += 1
            if self._pending >= _BATCH:
                self._pending = 0
                cursor.execute("COMMIT")
        except _sqlite_error() as exc:
            raise _failed(exc) from None
        self._size += new
        return new

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if self._closed:
            raise ValueError("the IdSet is closed")
        cursor = self._cursor
        if cursor is None or not self._size:
            return False
        try:
            return cursor.execute(_SELECT, (_encode(key),)).fetchone() is not None
        except _sqlite_error() as exc:
            raise _failed(exc) from None

    def _open(self) -> sqlite3.Cursor:
        if self._closed:
            raise ValueError("the IdSet is closed")
        try:
            import sqlite3  # only a run that keeps ids pays for the import
        except ImportError:  # a Python built without it
            raise LlamaError(
                "this Python has no sqlite3 module, which llama-models batch keeps its ids in"
            ) from None
        # "": a private temporary database, deleted by SQLite when it is closed.
        db = sqlite3.connect("", isolation_level=None)
        try:
            for pragma in _PRAGMAS:
                db.execute(f"PRAGMA {pragma}").close()
            db.execute(_CREATE).close()
        except sqlite3.Error as exc:
            db.close()
            raise _failed(exc) from None
        self._db, self._cursor = db, db.cursor()
        return self._cursor


def _encode(key: str) -> bytes:
    # surrogatepass: JSON lets an id hold a lone surrogate ("\ud800"); keep it exact.
    return key.encode("utf-8", "surrogatepass")


def _sqlite_error() -> type[Exception]:
    import sqlite3  # imported already: a cursor exists

    return sqlite3.Error


def _failed(exc: Exception) -> LlamaError:
    return LlamaError(f"cannot keep the ids seen in a temporary file: {exc}")
