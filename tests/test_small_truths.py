"""Small truths a user relies on: what they typed comes back in messages exactly as typed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from replay.config import rules
from replay.models import CaseInput, InboundMessage
from replay.verdict.checks import InvariantConfig, check
from replay.verdict.optout import opt_out_phrase
from tests.helpers import run_cli

PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
"""A regular expression: the kind of value whose case matters most when shown back."""


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        pytest.param(
            f'[selection]\nchannel = "{PATTERN}"',
            f"[selection] channel must be one of email, sms, linkedin, any, got {PATTERN!r}",
            id="choice",
        ),
        pytest.param(
            f'[invariants]\ndisabled = ["{PATTERN}"]',
            f"[invariants] disabled[0] must be one of empty_draft, unresolved_placeholder, "
            "channel_length, unsupported_price, unsupported_link, unsupported_email, "
            "unsupported_phone, ignored_opt_out, wrong_name, language_mismatch, unoffered_time, "
            "unanswered_question, truncated, repeated_text, wrong_signature, "
            f"got {PATTERN!r}",
            id="list-of-choices",
        ),
        pytest.param(
            f'[gate]\non_stats = "{PATTERN}"',
            "[gate] on_stats: input should be a valid boolean, unable to interpret input, "
            f"got {PATTERN!r}",
            id="type",
        ),
        pytest.param(
            f'[invariants]\nallowed_domains = "{PATTERN}"',
            f"[invariants] allowed_domains: input should be a valid list, got {PATTERN!r}",
            id="shape",
        ),
        pytest.param(
            f'[database]\nurl_env = "{PATTERN}"',
            "[database] url_env must be the name of an environment variable",
            id="never-echoed",
        ),
    ],
)
def test_a_replay_toml_error_shows_the_value_as_written(
    capsys: pytest.CaptureFixture[str], workdir: Path, toml: str, message: str
) -> None:
    """A value replay.toml rejects is quoted with its case intact ([database] ones: not at all)."""
    (workdir / "replay.toml").write_text(toml + "\n")
    result = run_cli(capsys, "--client-id", "c", "--dry-run")
    assert (result.code, result.err) == (2, f"replay: replay.toml {message}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--channel", PATTERN),
            f"--channel must be one of email, sms, linkedin, any, got {PATTERN!r}",
            id="choice",
        ),
        pytest.param(
            ("--request-source", "RECORDED!"),
            "--request-source must be one of auto, recorded, rendered, got 'RECORDED!'",
            id="choice-upper",
        ),
        pytest.param(
            ("signals", "--since", "^[A-Z]+S"),
            "--since must be a duration such as 90s, 15m, 24h or 7d, got '^[A-Z]+S'",
            id="duration",
        ),
    ],
)
def test_a_flag_error_shows_the_value_as_typed(
    capsys: pytest.CaptureFixture[str], workdir: Path, args: tuple[str, ...], message: str
) -> None:
    """The rules that compare values case-insensitively still quote the value as typed."""
    command = args if args[0] == "signals" else ("--client-id", "c", "--dry-run", *args)
    result = run_cli(capsys, *command)
    assert (result.code, result.err) == (2, f"replay: {message}\n")


def test_a_case_insensitive_rule_keeps_the_typed_value_for_its_message() -> None:
    """`choice` and `duration` read lower-cased text but reject with the value as given."""
    with pytest.raises(rules.Rejected) as chosen:
        rules.choice("email", "sms")(f"  {PATTERN}  ")
    assert chosen.value.message("REPLAY_CHANNEL").endswith(f"got '  {PATTERN}  '")
    with pytest.raises(rules.Rejected) as lasted:
        rules.duration("7D-ISH")
    assert lasted.value.message("--window").endswith("got '7D-ISH'")
    assert rules.choice("email", "sms")("EMAIL") == "email"  # accepted values are normalised


def _case(inbound: str) -> CaseInput:
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    return CaseInput.model_validate(
        {
            "case_id": "c1",
            "client_id": "k1",
            "lead_id": "l1",
            "channel": "email",
            "job_created_at": at,
            "inbound": InboundMessage(id="m1", subject=None, body=inbound, sent_at=at),
        }
    )


@pytest.mark.parametrize(
    ("inbound", "phrases", "shown"),
    [
        pytest.param("PLEASE STOP texting me.", (), "PLEASE STOP", id="built-in"),
        pytest.param("Don\u2019t Contact Me again", (), "Don\u2019t Contact Me", id="apostrophe"),
        pytest.param(
            "Bitte KEINE Prospekte.", ("keine prospekte",), "KEINE Prospekte", id="configured"
        ),
        pytest.param("Thanks!\n> Reply STOP to opt out", (), None, id="quoted-footer"),
    ],
)
def test_opt_out_words_are_quoted_as_the_lead_wrote_them(
    inbound: str, phrases: tuple[str, ...], shown: str | None
) -> None:
    """The words that ask to stop keep their case and apostrophe, whatever they matched."""
    assert opt_out_phrase(inbound, phrases) == shown


def test_the_ignored_opt_out_check_quotes_the_inbound_as_written() -> None:
    """The check's detail names the lead's words, not a lower-cased copy of them."""
    config = InvariantConfig(opt_out_phrases=("Cancel My Plan",))
    (found,) = check("Sure, want a call on Monday?", _case("CANCEL MY PLAN now."), config)
    assert found.code == "ignored_opt_out"
    assert found.detail.startswith("the inbound asks to stop ('CANCEL MY PLAN'), yet the draft")
