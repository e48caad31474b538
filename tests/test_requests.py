"""Which request the openai pipeline would send, and its estimate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from replay.config.models import Price, RequestConfig
from replay.models import CaseInput, ChatRequest, InboundMessage, ThreadMessage
from replay.run.pipelines import openai as openai_pipeline
from replay.run.pipelines import prompt
from replay.run.pricing import estimate

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _case(recorded: dict[str, Any] | None = None) -> CaseInput:
    return CaseInput(
        case_id="c1",
        client_id="k1",
        lead_id="l1",
        channel="sms",
        job_created_at=T0,
        inbound=InboundMessage(id="m2", body="How much is a roof inspection?", sent_at=T0),
        thread=[
            ThreadMessage(
                message_id="m1", direction="outbound", channel="sms", body="Hi Ann!", sent_at=T0
            )
        ],
        lead={"first_name": "Ann", "email": "ann@example.com"},
        client_settings={
            "price_list": [{"item": "Inspection", "price": "$199"}],
            "booking_link": "https://book.example.com/acme",
            "signature": "Dana, Acme Roofing",
        },
        original_request=ChatRequest.from_recorded(recorded) if recorded else None,
    )


def _config(**overrides: Any) -> RequestConfig:
    values: dict[str, Any] = {
        "pipeline": "openai",
        "request_source": "auto",
        "default_model": "gpt-4o-mini",
    }
    return RequestConfig(**(values | overrides))


RECORDED = {
    "model": "gpt-4o",
    "temperature": 0.7,
    "messages": [{"role": "system", "content": "old"}, {"role": "user", "content": "hi"}],
    "top_p": 0.9,
}


def test_auto_uses_the_recording_when_there_is_one() -> None:
    """`auto` re-sends the recorded request, unknown keys included."""
    planned = openai_pipeline.plan_request(_case(RECORDED), _config())
    assert planned.source == "recorded"
    assert planned.request.to_api() == {**RECORDED}


def test_auto_renders_without_a_recording() -> None:
    """Without a recording the template renders the case: facts, thread, inbound last."""
    planned = openai_pipeline.plan_request(_case(), _config())
    assert planned.source == "rendered"
    messages = planned.request.messages
    assert [m.role for m in messages] == ["system", "assistant", "user"]
    assert "- Inspection: $199" in str(messages[0].content)
    assert messages[-1].content == "How much is a roof inspection?"
    assert planned.request.model == "gpt-4o-mini"


def test_recorded_without_a_recording_raises() -> None:
    """`recorded` on a case with no recording cannot be planned."""
    with pytest.raises(openai_pipeline.NoRecording):
        openai_pipeline.plan_request(_case(), _config(request_source="recorded"))


def test_overrides_apply_to_a_recorded_request() -> None:
    """--model, --temperature and --system-prompt-file change the recorded request."""
    config = _config(model="gpt-4.1", temperature=0.0, system_prompt="NEW")
    request = openai_pipeline.plan_request(_case(RECORDED), config).request
    assert (request.model, request.temperature) == ("gpt-4.1", 0.0)
    assert request.messages[0].content == "NEW"
    assert request.messages[1].content == "hi"


def test_system_prompt_is_inserted_when_the_request_has_none() -> None:
    """A request without a system message gets the new one first."""
    recorded = {"messages": [{"role": "user", "content": "hi"}]}
    request = openai_pipeline.plan_request(_case(recorded), _config(system_prompt="S")).request
    assert [(m.role, m.content) for m in request.messages] == [("system", "S"), ("user", "hi")]


def test_request_hash_is_stable_and_sensitive() -> None:
    """Equal requests hash equally; any change changes the hash."""
    a = ChatRequest.from_recorded(RECORDED)
    b = ChatRequest.from_recorded(dict(reversed(list(RECORDED.items()))))
    c = ChatRequest.from_recorded({**RECORDED, "temperature": 0.1})
    assert (
        openai_pipeline.request_hash(a)
        == openai_pipeline.request_hash(b)
        != openai_pipeline.request_hash(c)
    )


def test_estimate_uses_characters_over_four_and_the_price() -> None:
    """Input tokens are characters / 4; output follows the original draft; cost uses the price."""
    request = ChatRequest.from_recorded(
        {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}
    )
    result = estimate(request, "y" * 80, {"m": Price(input=1.0, output=2.0)})
    assert (result.input_tokens, result.output_tokens) == (100, 20)
    assert result.cost_usd == pytest.approx((100 * 1.0 + 20 * 2.0) / 1e6)


def test_estimate_without_a_price_has_no_cost() -> None:
    """An unpriced model gives no cost rather than a wrong one."""
    request = ChatRequest.from_recorded(
        {"model": "mystery", "messages": [{"role": "user", "content": "x"}]}
    )
    assert estimate(request, None, {}).cost_usd is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param("text", "expected a JSON object, got str", id="string"),
        pytest.param({"prompt": "p"}, "non-empty 'messages' list", id="completion-style"),
        pytest.param({"messages": []}, "non-empty 'messages' list", id="empty"),
        pytest.param(
            {"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role", id="role"
        ),
    ],
)
def test_not_a_chat_request_is_rejected_with_a_reason(data: object, reason: str) -> None:
    """A recorded request that is not a chat request says why."""
    with pytest.raises(ValueError, match=reason):
        ChatRequest.from_recorded(data)


def test_system_prompt_states_only_given_facts() -> None:
    """The template lists the client's prices, link and signature, and the channel's rule."""
    text = prompt.system_prompt(_case())
    assert "Booking link for meetings: https://book.example.com/acme" in text
    assert "Sign off with: Dana, Acme Roofing" in text
    assert "at most 320 characters" in text
