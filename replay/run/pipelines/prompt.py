"""The built-in prompt template: renders a chat request from what production had at the time.

Teams with their own prompt pass `--system-prompt-file`, which replaces the system message, or
replay their recorded requests with `--request-source recorded`.
"""

from __future__ import annotations

from typing import Any

from replay.models import CaseInput, ChatMessage, ChatRequest

PROMPT_VERSION = "replay-template-1"

CHANNEL_RULES = {
    "email": "Write an email reply body (no subject line). Keep it under 180 words.",
    "sms": "Write a text message: plain text, no links unless needed, at most 320 characters.",
    "linkedin": "Write a LinkedIn message: friendly and professional, under 1,900 characters.",
}


def render(case: CaseInput, *, model: str, temperature: float | None) -> ChatRequest:
    """Render the request the built-in template sends for `case`."""
    messages = [ChatMessage(role="system", content=system_prompt(case))]
    for message in case.thread:
        if message.body:
            role = "user" if message.direction == "inbound" else "assistant"
            messages.append(ChatMessage(role=role, content=message.body))
    inbound = case.inbound.body
    if case.inbound.subject and case.channel == "email":
        inbound = f"Subject: {case.inbound.subject}\n\n{inbound}"
    messages.append(ChatMessage(role="user", content=inbound))
    return ChatRequest(messages=messages, model=model, temperature=temperature)


def system_prompt(case: CaseInput) -> str:
    """State the client's facts, the lead and the channel's rule: all the model may rely on."""
    settings = case.client_settings
    lines = ["You write reply drafts for a sales team. Reply to the lead's newest message."]
    if settings.get("persona"):
        lines.append(f"Persona: {settings['persona']}")
    if settings.get("service_description"):
        lines.append(f"What we offer: {settings['service_description']}")
    prices = _price_lines(settings.get("price_list"))
    if prices:
        lines.append("Prices (quote only these):")
        lines.extend(prices)
    if settings.get("booking_link"):
        lines.append(f"Booking link for meetings: {settings['booking_link']}")
    lead = ", ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in case.lead.items()
        if value not in (None, "") and key in ("first_name", "last_name", "company", "timezone")
    )
    if lead:
        lines.append(f"Lead: {lead}")
    lines.append(f"Channel: {case.channel}. {CHANNEL_RULES[case.channel]}")
    if settings.get("signature"):
        lines.append(f"Sign off with: {settings['signature']}")
    lines.append(
        "Never invent prices, links, emails or phone numbers. If the lead asks to stop, "
        "acknowledge briefly and do not ask anything."
    )
    return "\n".join(lines)


def _price_lines(price_list: Any) -> list[str]:
    if not isinstance(price_list, list):
        return []
    return [
        f"- {entry['item']}: {entry['price']}"
        for entry in price_list
        if isinstance(entry, dict) and entry.get("item") and entry.get("price")
    ]
