"""Spanish, German and French clients replayed through the mistake-making model, end to end.

The local model server's `replay-variant` makes the same kinds of mistake in every language
(a stranger greeted, a reply in English, a slot outside the client's availability, a question
left unanswered, a cut-off, looped or re-signed draft, invented facts). Per case, against the
`x-stub-injected` header: each mistake is reported under its own code, and the faithful
rewordings are not.
"""

from __future__ import annotations

import asyncpg
import pytest

from replay.devtools import generator
from replay.devtools.stub_model import StubServer
from tests.helpers import assert_caught, replay_variant

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
    clients = [client.id for client in summary.clients]
    mistakes, cases = replay_variant(capsys, stub.base_url, empty_db, clients, limit=40)
    made = [code for code in mistakes.values() if code != "none"]
    assert {"wrong_name", "unoffered_time", "unanswered_question"} <= set(made), set(made)
    assert len(made) >= 30 and len(mistakes) - len(made) >= 100
    assert_caught(mistakes, cases)
