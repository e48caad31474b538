"""Pacing in a live run, against the local model server's rolling rate-limit window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from replay.devtools.generator import FixtureSummary
from replay.run.pacing import CATCH_UP_S, MARGIN
from tests.helpers import replay_to, serving

ARGS = ("--model", "replay-original", "--no-gate", "--limit", "40")


def test_a_paced_run_stays_under_the_stated_limit_without_a_single_429(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """The server states 600 requests a minute; nobody told the run: it reads the headers."""
    for server in serving(monkeypatch, rpm=600):
        began = time.monotonic()
        result, run = replay_to(capsys, fixture_db, fixtures.clients[0].id, "run.json", *ARGS,
                                "--concurrency", "16")  # fmt: skip
        took = time.monotonic() - began
        assert result.code == 0, result.err
        assert server.rate_limited == 0
        drafted = [case for case in run["cases"] if case["outcome"] is not None]
        assert len(drafted) >= 30
        assert all(len(case["attempts"]) == 1 for case in drafted)
        # Spaced at the stated rate once the first answers stated it (up to --concurrency went
        # before), after the first second's worth: not all at once.
        interval = 60 / (600 * MARGIN)
        assert took >= (len(drafted) - 16) * interval - CATCH_UP_S


def test_without_pacing_the_same_run_meets_429s(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    for server in serving(monkeypatch, rpm=30):
        off = ("--concurrency", "8", "--pacing", "off", "--retries", "0")
        result, run = replay_to(capsys, fixture_db, fixtures.clients[0].id, "run.json", *ARGS, *off)
        assert result.code == 0, result.err
        limited = [
            case for case in run["cases"]
            if case["error"] and case["error"]["error_class"] == "model_rate_limit"
        ]  # fmt: skip
        assert len(limited) == server.rate_limited > 0
        asked = [case for case in run["cases"] if case["attempts"]]
        assert len(asked) - len(limited) == 30  # the window's 30, then 429s
        assert run["config"]["live"]["pacing"] == {"enabled": False, "rpm": None, "tpm": None}


def test_rpm_paces_a_server_that_states_no_limit(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    for server in serving(monkeypatch):
        began = time.monotonic()
        result, run = replay_to(capsys, fixture_db, fixtures.clients[0].id, "run.json", *ARGS,
                                "--concurrency", "16", "--rpm", "900")  # fmt: skip
        took = time.monotonic() - began
        assert result.code == 0, result.err
        drafted = [case for case in run["cases"] if case["outcome"] is not None]
        interval = 60 / (900 * MARGIN)
        assert took >= (len(drafted) - 1) * interval - CATCH_UP_S - interval
        assert server.requests == len(drafted)
        assert run["config"]["live"]["pacing"] == {"enabled": True, "rpm": 900, "tpm": None}
