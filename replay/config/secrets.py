"""Descriptions of URLs and DSNs that are safe to print: never a user, password, key or query."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit


def describe_url(url: str) -> str:
    """An HTTP URL without user info, query or fragment: safe for messages and artifacts."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if "@" in parts.path + parts.query + parts.fragment:
        return "<unparseable URL>"  # user info ended early by an unencoded '/', '?' or '#'
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}".rstrip("/")


def safe_pipeline(spec: str) -> str:
    """A --pipeline value fit for an artifact: an endpoint URL loses user info and query."""
    return describe_url(spec) if spec.startswith(("http://", "https://")) else spec


UNPARSEABLE_DSN = "<unparseable DSN>"
"""How a DSN that cannot be read one way only is shown: nothing of it, not even its host."""


def describe_dsn(dsn: str) -> str:
    """Return scheme, host, port and database of a DSN: never the user, password or options.

    A Unix-socket DSN (``postgresql:///db?host=/run/pg``) names its socket directory. A DSN that
    cannot be read one way only is shown as `UNPARSEABLE_DSN`, with no part of it: a password
    with an unencoded ``#``, ``/`` or ``?`` ends the host part early, and what a parser then calls
    the host, port or database is a piece of the password.
    """
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        return UNPARSEABLE_DSN
    ambiguous = (
        parts.scheme not in ("postgresql", "postgres")
        or "#" in dsn  # a DSN has no fragment: a '#' is a character that was not encoded
        or "@" in parts.path + parts.query  # a userinfo ended early by a '/' or a '?'
    )
    if ambiguous:
        return UNPARSEABLE_DSN
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    if not port and query.get("port"):
        port_text = query["port"][0]
        port = int(port_text) if port_text.isdigit() else None
    database = unquote(parts.path.lstrip("/")) or (query.get("dbname") or [""])[0]
    scheme = parts.scheme or "postgresql"
    if host.startswith("/"):
        return f"{scheme}:///{database or '?'} (socket directory {host})"
    return f"{scheme}://{host or 'localhost'}:{port or 5432}/{database or '?'}"
