"""Configuration values that must never leak a secret."""

from __future__ import annotations

import pytest

from replay.config.secrets import describe_dsn


@pytest.mark.parametrize(
    ("dsn", "described"),
    [
        pytest.param(
            "postgresql://app:s3cret@db.internal:6432/sales?sslmode=require",
            "postgresql://db.internal:6432/sales",
            id="host-port",
        ),
        pytest.param("postgres://u:p@db/sales", "postgres://db:5432/sales", id="default-port"),
        pytest.param(
            "postgresql://postgres:@/replay?host=/tmp/pgsock",
            "postgresql:///replay (socket directory /tmp/pgsock)",
            id="socket",
        ),
        pytest.param(
            "postgresql:///sales?host=/run/pg&password=hunter2&user=me",
            "postgresql:///sales (socket directory /run/pg)",
            id="socket-password-in-query",
        ),
        pytest.param("postgresql://a:b@[::1:bad", "<unparseable database URL>", id="garbage"),
    ],
)
def test_describe_dsn_keeps_only_scheme_host_port_database(dsn: str, described: str) -> None:
    """A DSN is described without user, password or options."""
    assert describe_dsn(dsn) == described
