"""Spanish, German and French clients replayed through the mistake-making model, end to end.

The local model server's `replay-variant` makes the same kinds of mistake in every language
(a stranger greeted, a reply in English, a slot outside the client's availability, a question
left unanswered, a cut-off, looped or re-signed draft, invented facts). Per case, against the
`x-stub-injected` header: each mistake is reported under its own code, and the faithful
rewordings are not.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from replay.devtools import generator
from replay.devtools.stub_model import StubServer
from tests.helpers import injected, replay_to, warning_kinds

LANGUAGES = ("es", "de", "fr")


async def test_every_injected_mistake_is_caught_in_every_language(
    capsys: pytest.CaptureFixture[str], stub: StubServer, empty_db: str
) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        summary = await generator.install(
            conn, clients=6, jobs_per_client=60, seed=5, languages=LANGUAGES
        )
    finally:
        await conn.close()
    mistakes: dict[str, str] = {}
    clean: list[str] = []
    verdicts: dict[str, dict[str, Any]] = {}
    for index, client in enumerate(summary.clients):
        args = ("--model", "replay-variant", "--limit", "40")
        _, dry = replay_to(capsys, empty_db, client.id, f"dry{index}.json", "--dry-run", *args)
        for case in dry["cases"]:
            if case["plan"]:
                code = injected(stub.base_url, case["plan"])
                (clean.append(case["case_id"]) if code == "none" else None)
                mistakes |= {case["case_id"]: code} if code != "none" else {}
        result, live = replay_to(
            capsys, empty_db, client.id, f"live{index}.json", "--no-gate", *args
        )
        assert result.code == 0, result.err
        verdicts |= {case["case_id"]: case for case in live["cases"]}
    kinds = set(mistakes.values())
    assert {"wrong_name", "unoffered_time", "unanswered_question"} <= kinds, kinds
    assert len(mistakes) >= 30 and len(clean) >= 100
    for case_id, code in mistakes.items():
        case = verdicts[case_id]
        if code in warning_kinds():
            found = case["invariants"]["new"] + case["invariants"]["pre_existing"]
            assert code in {v["code"] for v in found}, (code, case["outcome"]["text"])
            continue
        assert case["verdict"] == "regressed", (code, case["outcome"]["text"], case["reasons"])
        assert code in {v["code"] for v in case["invariants"]["new"]}
    for case_id in clean:
        case = verdicts[case_id]
        assert case["verdict"] != "regressed", (case["outcome"]["text"], case["reasons"])
