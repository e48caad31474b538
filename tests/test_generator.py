"""The seeded fixture generator and the deterministic draft writer, against a real Postgres."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

import replay
from replay.devtools import corpus, drafting, generator
from replay.devtools.drafting import INTENTS, detect_intent, production_request, write_draft
from replay.devtools.generator import END, FixtureSummary
from replay.errors import UsageError

SQL = Path(replay.__file__).parent / "config" / "sql"
RECENT_SUCCEEDED = (
    "SELECT id::text FROM draft_jobs WHERE client_id = $1::uuid AND status = 'succeeded'"
    " AND job_type = 'reply_draft' ORDER BY enqueued_at DESC, id LIMIT 20"
)
SETTINGS = {
    "service_description": "Roof repair and replacement across Denver.",
    "price_list": [
        {"item": "Roof inspection", "price": "$450"},
        {"item": "Gutter guard install", "price": "$1,200"},
        {"item": "Full roof replacement (average home)", "price": "$12,500"},
    ],
    "booking_link": "https://book.example.com/brightpeak",
    "signature": "Dana Reyes, BrightPeak Roofing",
    "persona": "Dana, a friendly estimator at BrightPeak Roofing",
}
LEAD = {"first_name": "Maria", "last_name": "Lopez", "company": "Acme Logistics"}
MEETING_WORDS = re.compile(r"\b(call|meet|meeting|schedule|calendar|demo|book|chat)\b", re.I)


def request(inbound: str, *, channel: str = "email", **settings: Any) -> dict[str, Any]:
    return production_request(
        client_settings={**SETTINGS, **settings},
        lead=LEAD,
        channel=channel,
        thread=[{"direction": "outbound", "subject": None, "body": "Hi Maria, roofs?"}],
        inbound_subject="Re: Roofs" if channel == "email" else None,
        inbound_body=inbound,
        model="gpt-4o-mini",
        temperature=0.4,
        max_tokens=400,
    )


def prices_in(text: str) -> set[str]:
    return set(re.findall(r"\$\d[\d,]*", text))


# --- generate: pure and seeded --------------------------------------------------------------


def test_same_seed_gives_identical_data() -> None:
    """Two runs with one seed give the same rows, ids, timestamps and summary."""
    first = generator.generate(clients=2, jobs_per_client=60, seed=3)
    second = generator.generate(clients=2, jobs_per_client=60, seed=3)
    assert first.summary == second.summary
    assert first.rows == second.rows


def test_different_seed_gives_different_data() -> None:
    """Another seed gives other client ids and other rows."""
    first = generator.generate(clients=2, jobs_per_client=60, seed=3)
    second = generator.generate(clients=2, jobs_per_client=60, seed=4)
    assert {c.id for c in first.summary.clients}.isdisjoint(c.id for c in second.summary.clients)
    assert first.rows["messages"] != second.rows["messages"]


def test_rows_follow_the_schema_column_order() -> None:
    """Every row has one value per column that `TABLES` names for its table."""
    dataset = generator.generate(clients=1, jobs_per_client=40, seed=1)
    assert list(dataset.rows) == [table for table, _ in generator.TABLES]
    for table, columns in generator.TABLES:
        assert {len(row) for row in dataset.rows[table]} == {len(columns)}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"clients": 0}, "--clients must be at least 1, got 0", id="clients"),
        pytest.param(
            {"jobs_per_client": 39},
            "--jobs-per-client must be at least 40, got 39",
            id="jobs-per-client",
        ),
    ],
)
def test_generate_refuses_too_small_a_dataset(kwargs: dict[str, Any], message: str) -> None:
    """Too few clients or jobs cannot hold the special cases; the error names the flag."""
    with pytest.raises(UsageError) as raised:
        generator.generate(**kwargs)
    assert str(raised.value) == message


def test_inbound_templates_read_as_the_intent_they_are_filed_under() -> None:
    """Each template, filled with every business's items, is detected as its own intent."""
    assert set(corpus.INBOUND) == set(INTENTS)
    for intent, templates in corpus.INBOUND.items():
        for template in templates:
            for business in corpus.BUSINESSES:
                for item, _ in business.prices:
                    text = template.format(
                        item=item.lower(), service=business.service, company="Acme Logistics",
                        day="Monday", city="Boise",
                    )  # fmt: skip
                    assert detect_intent(text) == intent, text
    assert detect_intent(corpus.STOP_BY_OFFICE.format(day="Friday")) == "meeting"


# --- what install loads ---------------------------------------------------------------------


async def test_summary_counts_match_the_database(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """The summary's clients and counts are what the database holds."""
    clients = await fixture_conn.fetch("SELECT id::text, name FROM clients")
    assert {(c.id, c.name) for c in fixtures.clients} == {(r["id"], r["name"]) for r in clients}
    assert await fixture_conn.fetchval("SELECT count(*) FROM messages") == fixtures.messages
    assert await fixture_conn.fetchval("SELECT count(*) FROM draft_jobs") == fixtures.jobs
    assert await fixture_conn.fetchval("SELECT count(*) FROM ai_drafts") == fixtures.drafts
    per_client = await fixture_conn.fetch(
        "SELECT client_id::text, count(*) FROM draft_jobs GROUP BY client_id"
    )
    assert {r[0]: r[1] for r in per_client} == {c.id: c.jobs for c in fixtures.clients}


async def test_client_settings_state_every_fact_a_prompt_needs(
    fixture_conn: asyncpg.Connection,
) -> None:
    """Settings hold a description, dollar prices, an https example link, signature, persona."""
    for raw in await fixture_conn.fetch("SELECT settings FROM clients"):
        settings = orjson.loads(raw[0])
        assert set(settings) == set(SETTINGS)
        assert all(re.fullmatch(r"\$\d{1,3}(,\d{3})*", p["price"]) for p in settings["price_list"])
        assert settings["booking_link"].startswith("https://book.example.com/")


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        pytest.param("draft_jobs", "status", {"succeeded", "failed", "dead", "pending", "running"},
                     id="status"),
        pytest.param("draft_jobs", "dispatch_mode", {"inline", "queued", "inline_emergency"},
                     id="dispatch_mode"),
        pytest.param("draft_jobs", "cohort", {"canary", "control", None}, id="cohort"),
        pytest.param("messages", "channel", {"email", "sms", "linkedin"}, id="channel"),
        pytest.param("messages", "sent_by", {"ai", "human", None}, id="sent_by"),
        pytest.param("ai_drafts", "disposition", {"sent_as_is", "edited", "rejected", None},
                     id="disposition"),
        pytest.param("dispatch_events", "kind",
                     {"enqueued", "enqueue_failed", "dedupe_hit", "inline_fallback"}, id="event"),
    ],
)  # fmt: skip
async def test_every_value_of_a_column_appears(
    fixture_conn: asyncpg.Connection, table: str, column: str, expected: set[str | None]
) -> None:
    """Statuses, dispatch modes, cohorts, channels, dispositions and event kinds all occur."""
    rows = await fixture_conn.fetch(f"SELECT DISTINCT {column} FROM {table}")
    assert {r[0] for r in rows} == expected


async def test_email_is_the_most_common_channel(fixture_conn: asyncpg.Connection) -> None:
    """Conversations are mostly email, as a sales inbox is."""
    rows = await fixture_conn.fetch(
        "SELECT channel FROM messages GROUP BY channel ORDER BY count(*) DESC"
    )
    assert rows[0][0] == "email"


async def test_every_intent_appears_among_inbound_messages(
    fixture_conn: asyncpg.Connection,
) -> None:
    """Pricing, meeting, information, objection, opt-out, out-of-office and other all occur."""
    rows = await fixture_conn.fetch(
        "SELECT body FROM messages WHERE direction = 'inbound' AND body IS NOT NULL"
    )
    assert {detect_intent(r[0]) for r in rows} == set(INTENTS)
    bodies = [r[0] for r in rows]
    assert any("stop by your office" in b for b in bodies)
    assert any(re.search(r"unsubscribe|remove me|stop texting", b, re.I) for b in bodies)


async def test_markup_inbound_is_among_the_demo_clients_recent_cases(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """A recent inbound of clients[0] carries a script tag and an attribute breakout."""
    recent = [r[0] for r in await fixture_conn.fetch(RECENT_SUCCEEDED, fixtures.clients[0].id)]
    bodies = await fixture_conn.fetch(
        "SELECT m.body FROM draft_jobs AS j JOIN messages AS m ON m.id = j.trigger_message_id"
        " WHERE j.id = ANY($1::uuid[])",
        recent,
    )
    assert any(
        "<script>alert(1)</script>" in b[0] and '"><img src=x onerror=alert(1)>' in b[0]
        for b in bodies
    )


async def test_jobs_are_internally_coherent(fixture_conn: asyncpg.Connection) -> None:
    """Attempts, timestamps, dedupe keys and drafts agree with each job's status."""
    broken = await fixture_conn.fetch(
        """
        SELECT j.id, j.status FROM draft_jobs AS j JOIN messages AS m ON m.id = j.trigger_message_id
        WHERE j.job_type <> 'reply_draft'
           OR j.attempts > j.max_attempts
           OR j.dedupe_key <> 'reply:' || j.trigger_message_id
           OR m.direction <> 'inbound' OR m.lead_id <> j.lead_id
           OR j.enqueued_at <= m.sent_at OR j.enqueued_at > m.sent_at + interval '1 minute'
           OR j.started_at < j.enqueued_at OR j.finished_at < j.started_at
           OR (j.status = 'pending') <> (j.started_at IS NULL)
           OR (j.status IN ('pending', 'running')) <> (j.finished_at IS NULL)
           OR (j.status IN ('failed', 'dead')) <> (j.last_error IS NOT NULL)
           OR (j.status = 'dead' AND j.attempts <> j.max_attempts)
           OR (j.status <> 'succeeded'
               AND EXISTS (SELECT FROM ai_drafts AS d WHERE d.job_id = j.id))
        """
    )
    assert broken == []


async def test_pending_and_running_jobs_are_each_clients_newest(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """Each client's two newest jobs are the running one and the pending one."""
    for client in fixtures.clients:
        rows = await fixture_conn.fetch(
            "SELECT status FROM draft_jobs WHERE client_id = $1::uuid"
            " ORDER BY enqueued_at DESC LIMIT 2",
            client.id,
        )
        assert [r[0] for r in rows] == ["pending", "running"]


async def test_timestamps_span_sixty_days_ending_at_end(fixture_conn: asyncpg.Connection) -> None:
    """Jobs spread over about 60 days, and nothing happens after END."""
    span = await fixture_conn.fetchrow("SELECT min(enqueued_at), max(enqueued_at) FROM draft_jobs")
    assert span is not None
    first, last = span
    assert last <= END and (END - first).days in range(55, 62)
    latest = await fixture_conn.fetchval("SELECT max(sent_at) FROM messages")
    assert latest <= END and latest.tzinfo is not None


async def test_a_later_message_follows_every_succeeded_jobs_inbound(
    fixture_conn: asyncpg.Connection,
) -> None:
    """After each succeeded job's inbound the lead has a later message: a leak would show."""
    missing = await fixture_conn.fetchval(
        """
        SELECT count(*) FROM draft_jobs AS j JOIN messages AS m ON m.id = j.trigger_message_id
        WHERE j.status = 'succeeded' AND NOT EXISTS (
            SELECT FROM messages AS later
            WHERE later.lead_id = j.lead_id AND later.sent_at > m.sent_at)
        """
    )
    assert missing == 0


async def test_recorded_requests_reproduce_their_original_drafts(
    fixture_conn: asyncpg.Connection,
) -> None:
    """Re-sending a recorded request's messages to write_draft gives the stored draft exactly."""
    rows = await fixture_conn.fetch(
        "SELECT content, request FROM ai_drafts WHERE request ? 'messages'"
    )
    total = await fixture_conn.fetchval("SELECT count(*) FROM ai_drafts")
    assert 0.75 < len(rows) / total < 0.95
    for row in rows:
        recorded = orjson.loads(row["request"])
        assert recorded["model"] == generator.MODEL
        assert write_draft(recorded["messages"]) == row["content"]


async def test_recorded_requests_hold_exactly_the_point_in_time_thread(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """A request's turns are the thread view's newest 20 messages before the inbound, then it."""
    thread_view = (SQL / "thread.sql").read_text()
    rows = await fixture_conn.fetch(
        "SELECT d.request, j.lead_id, m.sent_at FROM ai_drafts AS d"
        " JOIN draft_jobs AS j ON j.id = d.job_id JOIN messages AS m ON m.id = j.trigger_message_id"
        " WHERE d.request ? 'messages' AND j.client_id = $1::uuid",
        fixtures.clients[0].id,
    )
    assert rows
    for row in rows:
        thread = await fixture_conn.fetch(
            f"SELECT * FROM (SELECT * FROM ({thread_view}) AS t WHERE lead_id = $1"
            " AND sent_at < $2 ORDER BY sent_at DESC LIMIT 20) AS newest ORDER BY sent_at",
            row["lead_id"],
            row["sent_at"],
        )
        turns = orjson.loads(row["request"])["messages"][1:-1]
        expected = [t for t in thread if t["body"] is not None]
        assert [t["role"] for t in turns] == [
            "user" if t["direction"] == "inbound" else "assistant" for t in expected
        ]
        assert all(t["body"] in turn["content"] for t, turn in zip(expected, turns, strict=True))


async def test_sent_replies_follow_each_disposition(fixture_conn: asyncpg.Connection) -> None:
    """As-is replies equal the draft, edits differ from it, rejections are human-written."""
    rows = await fixture_conn.fetch(
        "SELECT d.disposition, d.content, m.body, m.sent_by FROM ai_drafts AS d"
        " LEFT JOIN messages AS m ON m.ai_draft_id = d.id AND m.direction = 'outbound'"
    )
    seen = {(r["disposition"], r["sent_by"]) for r in rows}
    assert seen == {
        ("sent_as_is", "ai"), ("edited", "human"), ("rejected", "human"), ("rejected", None),
        (None, None),
    }  # fmt: skip
    for row in rows:
        if row["disposition"] == "sent_as_is":
            assert row["body"] == row["content"]
        elif row["body"] is not None:
            assert row["body"] != row["content"]


async def test_corrupt_rows_are_among_the_last_clients_recent_cases(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """Each corrupt kind occurs once, in the last client's 20 newest succeeded jobs."""
    recent = [r[0] for r in await fixture_conn.fetch(RECENT_SUCCEEDED, fixtures.clients[-1].id)]
    assert sorted(fixtures.corrupt.values()) == sorted(generator.CORRUPT_KINDS)
    assert set(fixtures.corrupt) <= set(recent)
    cases = (SQL / "cases.sql").read_text()
    rows = await fixture_conn.fetch(
        f"SELECT * FROM ({cases}) AS c WHERE case_id = ANY($1::uuid[])", list(fixtures.corrupt)
    )
    by_kind = {fixtures.corrupt[str(r["case_id"])]: r for r in rows}
    assert by_kind["null_inbound_body"]["inbound_body"] is None
    assert len(by_kind["enormous_body"]["inbound_body"]) >= generator.ENORMOUS_CHARS
    not_chat = orjson.loads(by_kind["not_chat_request"]["original_request"])
    assert "messages" not in not_chat and "prompt" in not_chat
    assert by_kind["missing_draft"]["original_draft"] is None
    assert by_kind["missing_draft"]["job_status"] == "succeeded"


async def test_other_recent_cases_are_valid(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """Apart from the corrupt rows, every client's last 20 cases have a body and a draft."""
    cases = (SQL / "cases.sql").read_text()
    for client in fixtures.clients:
        rows = await fixture_conn.fetch(
            f"SELECT * FROM ({cases}) AS c WHERE client_id = $1::uuid AND job_status = 'succeeded'"
            " ORDER BY job_created_at DESC, case_id LIMIT 20",
            client.id,
        )
        for row in rows:
            if str(row["case_id"]) in fixtures.corrupt:
                continue
            assert row["inbound_body"] and len(row["inbound_body"]) < 50_000
            assert row["original_draft"]
            request = row["original_request"]
            assert request is None or "messages" in orjson.loads(request)


async def test_tied_cases_share_enqueued_at_among_recent_cases(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """The tied pair are succeeded jobs of clients[0] with drafts and one enqueued_at."""
    recent = [r[0] for r in await fixture_conn.fetch(RECENT_SUCCEEDED, fixtures.clients[0].id)]
    assert set(fixtures.tied_case_ids) <= set(recent)
    rows = await fixture_conn.fetch(
        "SELECT j.enqueued_at, j.lead_id, d.content FROM draft_jobs AS j"
        " JOIN ai_drafts AS d ON d.job_id = j.id WHERE j.id = ANY($1::uuid[])",
        list(fixtures.tied_case_ids),
    )
    assert len(rows) == 2 and rows[0]["enqueued_at"] == rows[1]["enqueued_at"]
    assert rows[0]["lead_id"] != rows[1]["lead_id"]


async def test_shared_lead_cases_see_the_earlier_inbound(
    fixture_conn: asyncpg.Connection, fixtures: FixtureSummary
) -> None:
    """Two recent cases of one lead: the later one's recorded prompt holds the earlier inbound."""
    recent = [r[0] for r in await fixture_conn.fetch(RECENT_SUCCEEDED, fixtures.clients[0].id)]
    assert set(fixtures.shared_lead_case_ids) <= set(recent)
    rows = await fixture_conn.fetch(
        "SELECT j.id::text, j.lead_id, m.body, d.request FROM draft_jobs AS j"
        " JOIN messages AS m ON m.id = j.trigger_message_id JOIN ai_drafts AS d ON d.job_id = j.id"
        " WHERE j.id = ANY($1::uuid[]) ORDER BY m.sent_at",
        list(fixtures.shared_lead_case_ids),
    )
    earlier, later = rows
    assert (earlier["id"], later["id"]) == fixtures.shared_lead_case_ids
    assert earlier["lead_id"] == later["lead_id"]
    later_prompt = "\n".join(m["content"] for m in orjson.loads(later["request"])["messages"])
    earlier_prompt = "\n".join(m["content"] for m in orjson.loads(earlier["request"])["messages"])
    assert earlier["body"] in later_prompt
    assert later["body"] not in earlier_prompt


# --- install ----------------------------------------------------------------------------------


async def test_install_refuses_a_database_with_tables(empty_db: str) -> None:
    """Without reset, a database with any table is left alone and the error says how to go on."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute("CREATE TABLE keep_me (id int)")
        with pytest.raises(UsageError) as raised:
            await generator.install(conn, clients=1, jobs_per_client=40)
        name = await conn.fetchval("SELECT current_database()")
        assert str(raised.value) == (
            f"database '{name}' already has tables (keep_me); "
            "pass --reset to drop and recreate them"
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1
        )
    finally:
        await conn.close()


async def test_install_with_reset_replaces_what_was_there(empty_db: str) -> None:
    """With reset, old tables are dropped and the reference schema is loaded with the fixtures."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute("CREATE TABLE keep_me (id int)")
        summary = await generator.install(conn, clients=1, jobs_per_client=40, seed=5, reset=True)
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert {r[0] for r in tables} == {table for table, _ in generator.TABLES}
        assert await conn.fetchval("SELECT count(*) FROM messages") == summary.messages
        assert summary == generator.generate(clients=1, jobs_per_client=40, seed=5).summary
    finally:
        await conn.close()


async def test_install_keeps_every_index_and_foreign_key_of_the_schema(
    fixture_conn: asyncpg.Connection,
) -> None:
    """The indexes and foreign keys dropped for loading are all back afterwards."""
    schema = (Path(generator.__file__).parent / "schema.sql").read_text()
    declared = set(re.findall(r"CREATE INDEX (\w+)", schema))
    indexes = await fixture_conn.fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    )
    assert declared <= {r[0] for r in indexes}
    foreign = await fixture_conn.fetchval("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
    assert foreign == schema.count("REFERENCES")


async def test_install_loads_exactly_the_generated_rows(empty_db: str) -> None:
    """Client by client, install loads the very rows generate returns, for every table."""
    dataset = generator.generate(clients=2, jobs_per_client=40, seed=9)
    conn = await asyncpg.connect(empty_db)
    try:
        summary = await generator.install(conn, clients=2, jobs_per_client=40, seed=9)
        assert summary == dataset.summary
        for table, columns in generator.TABLES:
            stored = await conn.fetch(f"SELECT id::text, {columns[1]}::text FROM {table}")
            expected = {(row[0], str(row[1])) for row in dataset.rows[table]}
            assert {(r[0], r[1]) for r in stored} == expected, table
        bodies = await conn.fetch("SELECT id::text, body FROM messages")
        assert {tuple(r) for r in bodies} == {(m[0], m[6]) for m in dataset.rows["messages"]}
    finally:
        await conn.close()


async def test_install_is_one_transaction(empty_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows that break a foreign key roll everything back: no table is left behind."""
    build = generator._build_client

    def broken(spec: Any) -> Any:
        batch = build(spec)
        job = batch.rows["draft_jobs"][0]
        batch.rows["draft_jobs"][0] = (*job[:3], str(uuid.uuid4()), *job[4:])
        return batch

    monkeypatch.setattr(generator, "_build_client", broken)
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await generator.install(conn, clients=2, jobs_per_client=40)
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables == 0
    finally:
        await conn.close()


# --- write_draft ------------------------------------------------------------------------------


def test_pricing_question_is_answered_with_the_named_items_price() -> None:
    """A question about an item quotes that item's price from the prompt, and no other price."""
    draft = write_draft(request("How much is a gutter guard install?")["messages"])
    assert "$1,200" in draft
    assert prices_in(draft) <= {"$450", "$1,200", "$12,500"}


def test_draft_signs_with_the_prompts_signature() -> None:
    """Every draft ends with the signature the prompt gives."""
    for inbound in ("How much is it?", "Can we set up a call?", "STOP", "Thanks, got it."):
        assert write_draft(request(inbound)["messages"]).endswith("Dana Reyes, BrightPeak Roofing")


def test_meeting_request_offers_times_and_the_booking_link() -> None:
    """A meeting request gets two concrete times and the prompt's booking link."""
    draft = write_draft(request("Could you do a quick call on Tuesday?")["messages"])
    assert len(re.findall(r"\b(?:Mon|Tues|Wednes|Thurs|Fri)day at \d", draft)) == 2
    assert "https://book.example.com/brightpeak" in draft


def test_information_request_is_answered_from_the_service_description() -> None:
    """A question about the service gets the prompt's description, with or without a link."""
    for link in ("https://book.example.com/brightpeak", ""):
        messages = request("How does it work?", booking_link=link)["messages"]
        assert "Roof repair and replacement across Denver." in write_draft(messages)


@pytest.mark.parametrize("inbound", ["Please stop texting me.", "Unsubscribe", "STOP",
                                     "Remove me from your list."])  # fmt: skip
def test_opt_out_reply_asks_nothing_links_nothing_prices_nothing(inbound: str) -> None:
    """An opt-out is acknowledged without a question, a link, a price or a meeting."""
    for channel in ("email", "sms", "linkedin"):
        draft = write_draft(request(inbound, channel=channel)["messages"])
        assert "?" not in draft and "http" not in draft and "$" not in draft
        assert not MEETING_WORDS.search(draft), draft
        assert "list" in draft


def test_stop_by_the_office_is_not_an_opt_out() -> None:
    """'Stop by your office' is a meeting request, answered with times."""
    draft = write_draft(request("Could I stop by your office on Friday?")["messages"])
    assert "https://book.example.com/brightpeak" in draft and "removed" not in draft


@pytest.mark.parametrize("intent", INTENTS)
def test_sms_drafts_stay_within_320_characters(intent: str) -> None:
    """SMS drafts fit 320 characters, even with a long description and long item names."""
    inbound = corpus.INBOUND[intent][0].format(
        item="roof inspection", service="roofing", company="Acme", day="Monday", city="Boise"
    )
    long_settings = {
        "service_description": "Roof repair, replacement and inspections. " * 8,
        "price_list": [{"item": "Roof inspection with drone survey " * 3, "price": "$450"}] * 2,
    }
    draft = write_draft(request(inbound, channel="sms", **long_settings)["messages"])
    assert len(draft) <= 320
    assert draft.endswith("Dana Reyes, BrightPeak Roofing")


def test_same_messages_give_the_same_draft() -> None:
    """write_draft is a function of its messages alone."""
    messages = request("What do you charge for a roof inspection?")["messages"]
    assert write_draft(messages) == write_draft([dict(m) for m in messages])


def test_variant_rewords_the_same_facts() -> None:
    """The variant differs from the original but quotes the same prices, link and signature."""
    for inbound in ("How much is a roof inspection?", "Can we set up a call this week?"):
        messages = request(inbound)["messages"]
        original, variant = write_draft(messages), write_draft(messages, style="variant")
        assert variant != original
        assert original.splitlines()[0] != variant.splitlines()[0]
        assert prices_in(variant) == prices_in(original)
        assert re.findall(r"https://\S+", variant) == re.findall(r"https://\S+", original)
        assert variant.endswith("Dana Reyes, BrightPeak Roofing")


def test_facts_are_read_from_a_differently_written_prompt() -> None:
    """A prompt that dumps the settings as JSON still yields its prices, link and signature."""
    messages: list[Mapping[str, Any]] = [
        {"role": "system", "content": "Client settings: " + orjson.dumps(SETTINGS).decode()
         + '\nLead: {"first_name": "Ana", "company": "X"}\nChannel: sms'},
        {"role": "user", "content": "what's the price of the roof inspection?"},
    ]  # fmt: skip
    draft = write_draft(messages)
    assert draft.startswith(("Hi Ana", "Hello Ana", "Hey Ana", "Good to hear from you, Ana"))
    assert "$450" in draft and draft.endswith(" - Dana Reyes, BrightPeak Roofing")


def test_facts_are_read_from_another_templates_wording() -> None:
    """Other keys for the same facts ("What we offer", "Sign off with", inline lead fields)."""
    system = "\n".join([
        "You write reply drafts for a sales team.",
        "What we offer: Roof repair across Denver.",
        "Prices (quote only these):",
        "- Roof inspection: $450",
        "- Gutter guard install: $1,200",
        "Booking link for meetings: https://book.example.com/brightpeak",
        "Lead: first name: Maria, last name: Lopez, company: Acme",
        "Channel: sms. Write a text message, at most 320 characters.",
        "Sign off with: Dana Reyes, BrightPeak Roofing",
    ])  # fmt: skip
    facts = drafting.read_facts(system)
    assert facts == drafting.Facts(
        prices=(("Roof inspection", "$450"), ("Gutter guard install", "$1,200")),
        booking_link="https://book.example.com/brightpeak",
        signature="Dana Reyes, BrightPeak Roofing",
        first_name="Maria",
        channel="sms",
        service="Roof repair across Denver.",
    )


def test_a_prompt_without_facts_gets_a_draft_without_facts() -> None:
    """No name, price or link in the prompt: none in the draft."""
    draft = write_draft([{"role": "user", "content": "How much is it?"}])
    assert draft.startswith(("Hi there", "Hello", "Hey there", "Good to hear"))
    assert "$" not in draft and "http" not in draft


def test_draft_parts_render_to_write_draft() -> None:
    """The parts the generator edits lay out to exactly the draft write_draft returns."""
    messages = request("Do you cover our area? We're in Boise.", channel="linkedin")["messages"]
    assert drafting.render(drafting.draft_parts(messages)) == write_draft(messages)
