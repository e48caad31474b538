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
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}".rstrip("/")


def safe_pipeline(spec: str) -> str:
    """A --pipeline value fit for an artifact: an endpoint URL loses user info and query."""
    return describe_url(spec) if spec.startswith(("http://", "https://")) else spec


def describe_dsn(dsn: str) -> str:
    """Return scheme, host, port and database of a DSN: never the user, password or options.

    A Unix-socket DSN (``postgresql:///db?host=/run/pg``) names its socket directory.
    """
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        return "<unparseable database URL>"
    if "@" in parts.path or "@" in parts.query:
        # A password with an unencoded '/' or '?' spills into the path: never echo it.
        return "<unparseable database URL: encode special characters of the password>"
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
