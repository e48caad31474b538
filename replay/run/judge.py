"""The LLM judge: pairwise, blinded, asked in both orders, answers validated, calls cached.

Judges in common use are order-biased, unseeded and count an answer they cannot parse as a
failure. This one shows the original and the new draft as A and B (which is which is seeded by
the case id, so the same case makes the same request and the cache hits), asks again with the
labels swapped, and prefers a draft only when both orders agree; otherwise it is a tie. The
answer is structured JSON validated against `Answer`; one that still fails after one corrective
retry is `unscored`, never a failure. A judge that cannot be reached is `judge_error`: the
replay result stands. Temperature 0, a fixed seed, the model pinned by the caller, and the
rubric's version and hash stored with every judgement.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from replay.artifacts.cache import Store, request_key
from replay.errors import AttemptFailed
from replay.models import (
    Attempt,
    CaseError,
    CaseInput,
    JudgeContext,
    Judgement,
    JudgeOrder,
    Preference,
    Usage,
)
from replay.run.answers import clean
from replay.run.batchqueue import BatchQueue
from replay.run.endpoint import (
    backoff_s,
    failed_attempt,
    reported_usage,
    sdk_failure,
    status_failure,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

RUBRIC_VERSION = "1"
CRITERIA = ("supported", "answers", "next_step", "fit", "policy")
RUBRIC = """You compare two reply drafts, A and B, written for the same inbound sales message.
Judge them on these criteria, in this order of importance:
- supported: every fact (price, link, email address, phone number, offer, date) is backed by
  the client facts or the conversation; an unsupported fact is a serious fault.
- policy: the draft respects policy: a message asking to stop or unsubscribe gets a short
  acknowledgement and nothing else (no question, link, price or meeting); no placeholder such
  as {first_name} is left in the text.
- answers: the draft answers what the inbound message asked.
- next_step: the draft moves the conversation to the right next step (a meeting, a price, a
  confirmation), or to none after an opt-out.
- fit: tone and length fit the channel (SMS short, email complete, LinkedIn conversational).
For each criterion say which draft is better: "A", "B" or "tie". Then say which draft is better
overall, "A", "B" or "tie", and explain why in one short paragraph that names the decisive
difference. The labels were assigned at random: never prefer a draft for its label, its
position or its length alone. Answer with one JSON object only, matching the given schema."""
RUBRIC_HASH = hashlib.sha256(f"{RUBRIC_VERSION}\n{RUBRIC}".encode()).hexdigest()
SCHEMA_NAME = "draft_judgement"
SEED = 7
"""The judge's sampling seed: fixed, so a rerun asks the same question."""
_CORRECTION = (
    "That answer could not be used: {problem}. Reply again with only the JSON object the "
    "schema describes."
)
_SPACE = re.compile(r"\s+")
JUDGE_ID = "judge-"
"""How the custom id of a judge request in a batch starts (then its cache key's first half)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criteria(_Frozen):
    """Per-criterion preference."""

    supported: Preference
    policy: Preference
    answers: Preference
    next_step: Preference
    fit: Preference


class Answer(_Frozen):
    """What the judge must answer, as JSON."""

    criteria: Criteria
    preferred: Preference
    rationale: str


SCHEMA = Answer.model_json_schema()


def context_of(case: CaseInput) -> JudgeContext:
    """What the judge may read of a case: what production had when it drafted."""
    lead = {
        key: case.lead[key] for key in ("first_name", "last_name", "company") if key in case.lead
    }
    return JudgeContext(
        channel=case.channel,
        inbound_subject=case.inbound.subject,
        inbound_body=case.inbound.body,
        thread=[
            {"direction": message.direction, "body": message.body or ""} for message in case.thread
        ],
        facts={"client": case.client_settings, "lead": lead},
    )


def original_label(case_id: str) -> Literal["A", "B"]:
    """Which label the original draft gets first: seeded by the case id, so stable across runs."""
    return "A" if hashlib.sha256(case_id.encode()).digest()[0] % 2 == 0 else "B"


def request(context: JudgeContext, draft_a: str, draft_b: str, *, model: str) -> dict[str, Any]:
    """The chat request asking which of two drafts is better."""
    lines = [f"Channel: {context.channel}", "", "## Client facts"]
    lines.append(orjson.dumps(context.facts, option=orjson.OPT_SORT_KEYS).decode())
    lines += ["", "## Conversation so far (oldest first)"]
    lines += [f"[{m.get('direction', '?')}] {m.get('body', '')}" for m in context.thread] or [
        "(none)"
    ]
    lines += ["", "## Message to answer"]
    if context.inbound_subject:
        lines.append(f"Subject: {context.inbound_subject}")
    lines += [context.inbound_body, "", "## Draft A", draft_a, "", "## Draft B", draft_b]
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": RUBRIC},
            {"role": "user", "content": "\n".join(lines)},
        ],
        "temperature": 0,
        "seed": SEED,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": SCHEMA},
        },
        "stream": False,
    }


def parse(content: str) -> tuple[Answer | None, str | None]:
    """A validated answer, or None and what was wrong with it (in our words)."""
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None, "it is not JSON"
    try:
        return Answer.model_validate(data), None
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"]) or "the top level"
        return None, f"{len(errors)} schema error(s), the first at {where} ({errors[0]['type']})"


@dataclass
class _Reply:
    content: str
    usage: Usage | None
    cached: bool
    key: str


@dataclass
class _Order:
    order: JudgeOrder
    answer: Answer | None = None
    failure: AttemptFailed | None = None
    usage: list[Usage] = field(default_factory=list)


@dataclass
class Judge:
    """Asks one judge model about pairs of drafts; see the module docstring."""

    client: AsyncOpenAI
    model: str
    base_url: str
    """Part of the cache key: the same request to another endpoint is another answer."""
    retries: int = 3
    request_timeout_s: float = 60.0
    cache: Store | None = None
    """Answers on disk (`<artifacts dir>/judge-cache`): only answers that validated are kept,
    so a cache never replays a broken one."""
    limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(4))
    price: Callable[[str, Usage], float | None] = lambda model, usage: None
    retry_after_cap_s: float = 60.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    queue: BatchQueue | None = None
    """With `--judge-via batch`: requests go to this Batch API queue instead of the endpoint
    (no per-request deadline or concurrency bound: a batch answers them together)."""
    _rng: random.Random = field(default_factory=random.Random)

    async def judge(
        self, case_id: str, context: JudgeContext, original: str, new: str
    ) -> Judgement:
        """Compare the original and the new draft of one case, in both orders."""
        if _SPACE.sub(" ", original).strip() == _SPACE.sub(" ", new).strip():
            return self._judgement("tie", [], [], context, rationale="the drafts are the same")
        first = original_label(case_id)
        labels: list[Literal["A", "B"]] = [first, "B" if first == "A" else "A"]
        orders: list[_Order] = []
        attempts: list[Attempt] = []

        async def ask(original_is: Literal["A", "B"]) -> None:
            orders.append(await self._order(context, original, new, original_is, attempts))

        async with anyio.create_task_group() as group:
            for label in labels:
                group.start_soon(ask, label)
        orders.sort(key=lambda item: labels.index(item.order.original_is))
        return self._combine(orders, attempts, context)

    async def _order(
        self,
        context: JudgeContext,
        original: str,
        new: str,
        original_is: Literal["A", "B"],
        attempts: list[Attempt],
    ) -> _Order:
        a, b = (original, new) if original_is == "A" else (new, original)
        body = request(context, a, b, model=self.model)
        usage: list[Usage] = []
        try:
            reply = await self._ask(body, attempts, usage)
            answer, problem = parse(reply.content)
            if answer is None:
                body = {
                    **body,
                    "messages": [
                        *body["messages"],
                        {"role": "assistant", "content": reply.content},
                        {"role": "user", "content": _CORRECTION.format(problem=problem)},
                    ],
                }
                reply = await self._ask(body, attempts, usage)
                answer, problem = parse(reply.content)
        except AttemptFailed as failure:
            order = JudgeOrder(original_is=original_is, problem=failure.message)
            return _Order(order, None, failure, usage)
        if answer is not None and self.cache is not None and not reply.cached:
            entry = {"content": reply.content, "usage": _dump(usage[-1] if usage else None)}
            await anyio.to_thread.run_sync(self.cache.put, reply.key, entry)
        order = JudgeOrder(
            original_is=original_is,
            preferred=None if answer is None else answer.preferred,
            criteria={} if answer is None else answer.criteria.model_dump(),
            rationale=None if answer is None else answer.rationale,
            cached=reply.cached,
            request_hash=reply.key,
            problem=None if answer is not None else f"unusable after one retry: {problem}",
        )
        return _Order(order, answer, None, usage)

    async def _ask(
        self, body: dict[str, Any], attempts: list[Attempt], usage: list[Usage]
    ) -> _Reply:
        """One answer for `body`: from the cache, or from the endpoint with retries."""
        key = request_key(self.base_url, body)
        if self.cache is not None:
            hit = await anyio.to_thread.run_sync(self.cache.get, key)
            if hit is not None and isinstance(hit.get("content"), str):
                return _Reply(hit["content"], None, True, key)
        import openai  # only a judged run needs the SDK
        from openai.types.chat import ChatCompletion

        for number in range(1, self.retries + 2):
            began = time.perf_counter()
            try:
                if self.queue is not None:
                    response = await self._batched(key, body)
                else:
                    async with self.limiter:
                        with anyio.fail_after(self.request_timeout_s):
                            response = await self.client.post(
                                "/chat/completions", cast_to=ChatCompletion, body=body
                            )
                content, used = _content(response)
            except TimeoutError:
                failure = AttemptFailed(
                    "model_timeout", "the judge endpoint did not answer in time", retryable=True
                )
            except (openai.OpenAIError, ValueError, TypeError) as exc:
                failure = sdk_failure(exc, "the judge endpoint")
            except AttemptFailed as caught:
                failure = caught
            else:
                attempts.append(Attempt(number=len(attempts) + 1, duration_ms=_since(began)))
                if used is not None:
                    usage.append(used)
                return _Reply(content, used, False, key)
            last = number > self.retries or not failure.retryable
            backoff = None if last else self._backoff(number, failure.retry_after_s)
            attempts.append(failed_attempt(len(attempts) + 1, _since(began), failure, backoff))
            if backoff is None:
                raise failure
            await anyio.sleep(backoff)
        raise AssertionError("unreachable: the last attempt raises or returns")

    async def _batched(self, key: str, body: dict[str, Any]) -> Any:
        """The judge's answer through its Batch API queue, as a chat completion.

        Raises:
            AttemptFailed: the line was answered with an error status or a malformed body.
            Unanswered: its batch ended without answering it (left for `--resume`).
        """
        from openai.types.chat import ChatCompletion

        assert self.queue is not None
        answer = await self.queue.ask(JUDGE_ID + key[:32], body)
        status = answer.get("status_code")
        if status != 200:
            raise status_failure(status if isinstance(status, int) else 500, None, "the judge")
        try:
            return ChatCompletion.model_validate(answer.get("body"))
        except ValidationError:
            raise AttemptFailed(
                "model_error", "the judge endpoint sent a malformed response", retryable=False
            ) from None

    def _backoff(self, number: int, retry_after_s: float | None) -> float:
        return backoff_s(
            number,
            retry_after_s,
            rng=self._rng,
            base_s=self.backoff_base_s,
            cap_s=self.backoff_cap_s,
            retry_after_cap_s=self.retry_after_cap_s,
        )

    def _combine(
        self, orders: list[_Order], attempts: list[Attempt], context: JudgeContext
    ) -> Judgement:
        failed = next((item.failure for item in orders if item.failure is not None), None)
        if failed is not None:
            error = CaseError(
                error_class="judge_error", message=failed.message, status=failed.status
            )
            return self._judgement("error", orders, attempts, context, error=error)
        answers = [item.answer for item in orders]
        if any(answer is None for answer in answers):
            return self._judgement("unscored", orders, attempts, context)
        sides = [_side(item.order.original_is, item.order.preferred) for item in orders]
        verdict = sides[0] if len(set(sides)) == 1 else "tie"
        criteria: dict[str, Literal["original", "new", "tie"]] = {}
        for name in CRITERIA:
            per = {_side(item.order.original_is, item.order.criteria.get(name)) for item in orders}
            criteria[name] = per.pop() if len(per) == 1 else "tie"
        first = orders[0].order
        rationale = f"[original = {first.original_is}] {first.rationale}"
        return self._judgement(
            verdict, orders, attempts, context, criteria=criteria, rationale=rationale
        )

    def _judgement(
        self,
        verdict: Literal["original", "new", "tie", "unscored", "error"],
        orders: list[_Order],
        attempts: list[Attempt],
        context: JudgeContext,
        *,
        criteria: dict[str, Literal["original", "new", "tie"]] | None = None,
        rationale: str | None = None,
        error: CaseError | None = None,
    ) -> Judgement:
        used = [item for order in orders for item in order.usage]
        usage = (
            Usage(
                prompt_tokens=sum(u.prompt_tokens for u in used),
                completion_tokens=sum(u.completion_tokens for u in used),
            )
            if used
            else None
        )
        return Judgement(
            model=self.model,
            rubric_version=RUBRIC_VERSION,
            rubric_hash=RUBRIC_HASH,
            verdict=verdict,
            criteria=criteria or {},
            rationale=rationale,
            orders=[item.order for item in orders],
            error=error,
            attempts=attempts,
            usage=usage,
            cost_usd=None if usage is None else self.price(self.model, usage),
            context=context,
        )


def _content(response: Any) -> tuple[str, Usage | None]:
    """The answer's text and usage; a response without a choice is a malformed one."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise AttemptFailed(
            "model_error", "the judge endpoint sent a response without choices", retryable=False
        )
    used = getattr(response, "usage", None)
    usage = None if used is None else reported_usage(used, "judge")
    content = getattr(getattr(choices[0], "message", None), "content", None)
    # A judge's rationale is kept and cached: text no format can hold is repaired first.
    return clean(content) if isinstance(content, str) else "", usage


def _side(
    original_is: Literal["A", "B"], preferred: Preference | None
) -> Literal["original", "new", "tie"]:
    """A label's preference in terms of the drafts."""
    if preferred is None or preferred == "tie":
        return "tie"
    return "original" if preferred == original_is else "new"


def _since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 3)


def _dump(usage: Usage | None) -> dict[str, int] | None:
    return None if usage is None else usage.model_dump()
