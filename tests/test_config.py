"""Configuration values that must never leak a secret."""

from __future__ import annotations

import pytest

from replay.config.secrets import describe_dsn, describe_url


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
        pytest.param("postgresql://a:b@[::1:bad", "<unparseable DSN>", id="garbage"),
    ],
)
def test_describe_dsn_keeps_only_scheme_host_port_database(dsn: str, described: str) -> None:
    """A DSN is described without user, password or options."""
    assert describe_dsn(dsn) == described


SPECIAL = "#@/%:?"
USER, PASSWORD = "uZq9", "pXw7Kk"
"""Markers that no described DSN may contain, whatever was put around or inside them."""


def _variants() -> list[tuple[str, str]]:
    """Every special character at the start, middle and end of the user and of the password."""
    found = []
    for char in SPECIAL:
        for where in ("user", "password"):
            for at in (0, 2, 6):
                user, password = USER, PASSWORD
                if where == "user":
                    user = user[:at] + char + user[at:]
                else:
                    password = password[:at] + char + password[at:]
                found.append((f"{where}-{at}-{char}", f"{user}:{password}"))
    return found


@pytest.mark.parametrize("userinfo", [pytest.param(info, id=name) for name, info in _variants()])
def test_no_special_character_anywhere_leaks_a_credential(userinfo: str) -> None:
    """`# @ / % : ?` unencoded in a user or password: the host part, or nothing; never a piece."""
    described = describe_dsn(f"postgresql://{userinfo}@db.example:6543/sales")
    assert described in ("postgresql://db.example:6543/sales", "<unparseable DSN>")
    assert not any(marker in described for marker in ("Zq", "q9", "Xw", "w7", "Kk"))


@pytest.mark.parametrize("char", list(SPECIAL))
def test_a_model_url_with_a_special_character_in_its_key_leaks_nothing(char: str) -> None:
    """An endpoint URL with user info shows only scheme, host, port and path, or nothing."""
    described = describe_url(f"https://{USER}:{PASSWORD[:3]}{char}{PASSWORD[3:]}@api.example/v1")
    assert described in ("https://api.example/v1", "<unparseable URL>")
    assert not any(marker in described for marker in ("Zq", "q9", "Xw", "w7", "Kk"))
