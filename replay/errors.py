"""The error tree of draft-replay.

Every failure a user can cause or meet maps to one exit code, decided by the class, never by
message text::

    ReplayError                     base; never raised itself
    ├── UsageError                  exit 2: a flag, file or config value is wrong
    │   └── ViewError               a view file breaks the case contract (names the file)
    ├── BlockedError                exit 3: the run cannot start
    │   ├── DatabaseUnavailable     unreachable, refusing, wrong password, timeout
    │   │   └── ConnectionLost      the connection went away mid-work (never a view's fault)
    │   ├── SchemaMismatch          a table, view or contract column is missing
    │   ├── ArtifactDirUnwritable   no artifact can be written
    │   └── ArtifactWriteFailed     a file of a started run cannot be written (disk, folder)

    AttemptFailed                   one attempt of one case failed: data, never an exit

A bad row is not an exception here: it becomes an ``invalid_case`` result and the run goes on.
Messages are written by us from the class and context, never ``str()`` of a driver error, which
can carry a user name or part of a secret.
"""

from __future__ import annotations

import errno
from enum import IntEnum


class ExitCode(IntEnum):
    """What `replay` exits with.

    When several apply, the first of USAGE, BLOCKED, INTERRUPTED, EMPTY, GATE_FAILED wins: a wrong
    flag outranks everything it could have caused.
    """

    OK = 0
    """The run finished and the gate passed, or a dry run succeeded."""
    GATE_FAILED = 1
    """Regressions, an error or invalid rate over its limit, the budget exhausted."""
    USAGE = 2
    """A flag, file or configuration value is wrong."""
    BLOCKED = 3
    """The database, a view, the model endpoint or the artifact directory stops the run."""
    EMPTY = 4
    """Nothing was selected (0 with `--allow-empty`)."""
    BUG = 70
    """A bug in the tool; its traceback is kept."""
    INTERRUPTED = 130
    """Ctrl-C or SIGTERM; the artifact holds every finished case."""


class ReplayError(Exception):
    """Base of every error this tool raises on purpose."""

    exit_code: ExitCode = ExitCode.BUG

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ReplayError):
    """A flag, file or configuration value is wrong; the message names it and the expected form."""

    exit_code = ExitCode.USAGE


LOCAL_EXTRA = frozenset({"h11", "pgserver"})
"""The packages of the `local` extra (pyproject.toml), by import name."""


def missing_extra(what: str, exc: ModuleNotFoundError) -> UsageError:
    """`what` needs a package of the `local` extra, which a production install leaves out."""
    return UsageError(
        f"{what} needs the local extra ({exc.name} is not installed): "
        "pip install 'draft-replay[local]'"
    )


class ViewError(UsageError):
    """A view file (or `replay.toml` entry) breaks the view rules of the case contract."""

    def __init__(self, message: str, *, view: str) -> None:
        super().__init__(message)
        self.view = view


class BlockedError(ReplayError):
    """Something outside the tool stops the run before any case starts.

    Attributes:
        check: the preflight check that failed (``database``, ``views``, ``artifact_dir``).
        code: a stable machine-readable cause, e.g. ``db_unreachable``.
    """

    exit_code = ExitCode.BLOCKED

    def __init__(self, message: str, *, check: str, code: str) -> None:
        super().__init__(message)
        self.check = check
        self.code = code


class DatabaseUnavailable(BlockedError):
    """The database cannot be reached, refuses the connection or rejects the credentials."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, check="database", code=code)


class ConnectionLost(DatabaseUnavailable):
    """The connection to the source database went away while `doing` something.

    Raised where the loss is met, which knows what was being done; `source.db.connect`, which
    knows the database, adds its description (`target`: host, port and database, never the
    user or password). A lost connection is the database's doing, never the view's.
    """

    def __init__(self, doing: str, *, target: str | None = None) -> None:
        database = f"the source database {target}" if target else "the source database"
        super().__init__(f"the connection to {database} was lost while {doing}", code="db_lost")
        self.doing = doing
        self.target = target


class SchemaMismatch(BlockedError):
    """A table, a view or a contract column is missing."""

    def __init__(self, message: str, *, view: str, code: str = "view_columns") -> None:
        super().__init__(message, check="views", code=code)
        self.view = view


def os_reason(error: OSError) -> str:
    """The system's reason for an OSError in words, with its errno name: `… (EACCES)`."""
    name = errno.errorcode.get(error.errno or 0, "")
    return (error.strerror or type(error).__name__) + (f" ({name})" if name else "")


class ArtifactDirUnwritable(BlockedError):
    """The artifact directory cannot be created or written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, check="artifact_dir", code="artifact_dir_unwritable")

    @classmethod
    def of(cls, directory: object, error: OSError) -> ArtifactDirUnwritable:
        """The error for `directory`, with the system's reason and what to pass instead."""
        reason = error.strerror or type(error).__name__
        return cls(
            f"artifact directory {str(directory)!r} is not writable ({reason}); "
            "pass --artifacts-dir or --out with a writable path"
        )


class ArtifactWriteFailed(BlockedError):
    """A file of a started run could not be written: a full disk, a read-only folder, a quota.

    Everything finished before it is in the partial log, resumable.
    """

    def __init__(self, path: str, error: OSError, *, partial: str | None = None) -> None:
        reason = os_reason(error)
        kept = (
            f"; every finished case is kept in {partial!r}: free the space or fix the folder, "
            f"then --resume {partial}"
            if partial
            else ""
        )
        super().__init__(
            f"cannot write {path!r}: {reason}{kept}", check="artifact_dir", code="disk_write"
        )
        self.errno = error.errno


class AttemptFailed(Exception):
    """One attempt of a case failed; the runner records it and maybe retries.

    Not a `ReplayError`: it never ends the run. The message is written by us from the class and
    status, never `str()` of the underlying error (an authentication error can echo a key).

    Attributes:
        error_class: one of `models.ErrorClass` (`model_rate_limit`, `model_timeout`, …).
        retryable: whether another attempt may succeed.
        retry_after_s: the server's Retry-After, when it sent one.
        status: the HTTP status, when there was a response.
    """

    def __init__(
        self,
        error_class: str,
        message: str,
        *,
        retryable: bool,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.status = status
