"""Preflight: turn a failure to reach what a run needs into one clear cause, before a case runs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio
import asyncpg

from replay.errors import BlockedError, ConnectionLost, DatabaseUnavailable, UsageError
from replay.models import PreflightEntry

if TYPE_CHECKING:
    import openai


_NO_TLS = "rejected SSL upgrade"
"""What asyncpg says when a server answers its TLS request with "no" (its `sslmode` requires it)."""


def database_failure(
    exc: BaseException, target: str, timeout_s: float, *, sslmode: str | None = None
) -> DatabaseUnavailable:
    """Classify a failed connection by exception type; the message is ours, never the driver's.

    Args:
        exc: what connecting raised.
        target: the database described without user or password (`config.secrets.describe_dsn`).
        timeout_s: the connect timeout, for the message.
        sslmode: where TLS was asked for (`sslmode=require`, `PGSSLMODE=require`), if known.

    Raises:
        UsageError: the URL itself is malformed (exit 2, not a blocked run).
    """
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return DatabaseUnavailable(
            f"database {target} rejected the credentials (password or user); check --database-url",
            code="db_auth",
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return DatabaseUnavailable(f"database {target} does not exist", code="db_missing")
    if isinstance(exc, asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError):
        return DatabaseUnavailable(
            f"database {target} is refusing connections now (starting up, shutting down or full)",
            code="db_refusing",
        )
    if isinstance(exc, TimeoutError):
        return DatabaseUnavailable(
            f"database {target} did not answer within {timeout_s:g} s", code="db_timeout"
        )
    if isinstance(exc, socket.gaierror):
        return DatabaseUnavailable(
            f"database {target}: the host name does not resolve", code="db_unreachable"
        )
    if isinstance(exc, asyncpg.ClientConfigurationError | ValueError):
        raise UsageError(
            "--database-url is not a valid Postgres URL; expected "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if type(exc) is ConnectionError and _NO_TLS in str(exc):
        # asyncpg's only sign of a server without TLS is this text on a bare ConnectionError.
        asked = f" ({sslmode})" if sslmode else ""
        return DatabaseUnavailable(
            f"database {target} does not accept TLS connections{asked}; use sslmode=disable, "
            "or sslmode=prefer to use TLS only where a server offers it",
            code="db_no_tls",
        )
    if isinstance(exc, OSError):
        return DatabaseUnavailable(
            f"database {target} is unreachable: connection refused or no server listening",
            code="db_unreachable",
        )
    if isinstance(exc, asyncpg.PostgresError):
        return DatabaseUnavailable(
            f"database {target} refused the connection (SQLSTATE {exc.sqlstate})",
            code="db_refused",
        )
    return DatabaseUnavailable(
        f"database {target} could not be reached ({type(exc).__name__})", code="db_unreachable"
    )


DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
"""What a statement on the source connection can raise from the driver or from its socket."""

LOST_SQLSTATES = ("08", "57P0")
"""SQLSTATEs of a connection that is gone: class 08 (connection exception) and 57P0x (admin
shutdown, i.e. a terminated backend; crash shutdown; cannot connect now; database dropped; idle
session timeout)."""

_OURS = (ValueError, asyncpg.UnsupportedClientFeatureError, asyncpg.UnsupportedServerFeatureError)
"""asyncpg interface errors that are about our call (a bad argument, a feature), not the link."""


def connection_lost(exc: BaseException, conn: asyncpg.Connection | None = None) -> bool:
    """Whether `exc` means the connection went away, not that the statement was wrong.

    Decided by type and SQLSTATE, never by message text: class 08 and 57P0x, asyncpg's interface
    errors about the connection (its connection-lost error is a class 08 one) and socket errors.
    Given the connection, any driver error once it is closed counts too: a backend killed as a
    statement starts can surface as asyncpg's own internal error.
    """
    if conn is not None and conn.is_closed() and isinstance(exc, DRIVER_ERRORS):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "").startswith(LOST_SQLSTATES)
    if isinstance(exc, asyncpg.InterfaceError):
        return not isinstance(exc, _OURS)
    return isinstance(exc, OSError)


def lost(doing: str) -> ConnectionLost:
    """The blocked error of a connection lost while `doing` (exit 3); `db.connect` names it."""
    return ConnectionLost(doing)


@contextmanager
def lost_as_blocked(conn: asyncpg.Connection, doing: str) -> Iterator[None]:
    """Turn a lost connection inside the block into `ConnectionLost` (exit 3); re-raise the rest.

    A handler inside the block that classifies the team's SQL errors re-raises a lost
    connection first (`connection_lost`), so the view is never blamed for it.
    """
    try:
        yield
    except DRIVER_ERRORS as exc:
        if connection_lost(exc, conn):
            raise lost(doing) from None
        raise


def reason(exc: asyncpg.PostgresError, *, sqlstate: bool = True) -> str:
    """What the server said, for a message about the team's SQL; never `None`.

    An error asyncpg made itself may carry no message: it is named by its class instead.
    """
    state = f"SQLSTATE {exc.sqlstate}" if sqlstate and exc.sqlstate else ""
    if not exc.message:
        return f"{type(exc).__name__} ({state + ', ' if state else ''}no message from the server)"
    return f"{exc.message} ({state})" if state else exc.message


def failed(error: BlockedError) -> PreflightEntry:
    """The preflight entry that records a blocked run's root cause."""
    return PreflightEntry(check=error.check, ok=False, code=error.code, message=error.message)


def passed(check: str, message: str) -> PreflightEntry:
    """The preflight entry of a check that passed."""
    return PreflightEntry(check=check, ok=True, message=message)


async def model_endpoint(
    client: openai.AsyncOpenAI,
    model: str | None,
    target: str,
    timeout_s: float,
    *,
    check: str = "model",
) -> str:
    """Check the model endpoint answers, accepts the key and lists the model.

    Args:
        client: the client the run will use.
        model: the model to look for (`--model`); None checks only the endpoint and key.
        target: the base URL without credentials, for messages.
        timeout_s: how long to wait for the listing.
        check: `model` for the pipeline's endpoint, `judge` for the judge's, `control` for the
            control arm's model on the pipeline's endpoint.

    Returns:
        What was checked, for the preflight entry.

    Raises:
        BlockedError: with check `model` and code `model_unreachable`, `model_unauthorized`,
            `model_unknown` or `model_error`.
    """
    import openai  # only live runs check an endpoint; others start faster

    label = "judge endpoint" if check == "judge" else "model endpoint"

    def blocked(message: str, code: str) -> BlockedError:
        return BlockedError(message, check=check, code=code)

    try:
        with anyio.fail_after(timeout_s):
            listing = await client.models.list()
            names = {item.id async for item in listing}
    except TimeoutError:
        raise blocked(
            f"{label} {target} did not answer within {timeout_s:g} s", "model_unreachable"
        ) from None
    except openai.AuthenticationError:
        raise blocked(
            f"{label} {target} rejected the API key (401)", "model_unauthorized"
        ) from None
    except openai.PermissionDeniedError:
        raise blocked(f"{label} {target} refused access (403)", "model_unauthorized") from None
    except openai.APIStatusError as exc:
        raise blocked(
            f"{label} {target} answered {exc.status_code} to the model listing",
            "model_error",
        ) from None
    except openai.APIConnectionError:
        raise blocked(f"{label} {target} is unreachable", "model_unreachable") from None
    except (openai.APIResponseValidationError, ValueError, TypeError):
        raise blocked(f"{label} {target} sent a malformed model listing", "model_error") from None
    if model is None:
        return f"{target} answered and accepted the key"
    if model not in names:
        given = " (--control-model)" if check == "control" else ""  # not the run's own --model
        raise blocked(f"{label} {target} does not list model {model!r}{given}", "model_unknown")
    return f"{target} accepted the key and lists {model!r}"
