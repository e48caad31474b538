"""`--via batch`: a live run's requests through the provider's Batch API, at batch prices.

The runner gathers every (case, repeat) of the run, asks the response cache first, and puts the
rest into JSONL input files (one line per request, `custom_id` = `CASE_ID#REPEAT`), split to
stay within the provider's limits of lines and bytes per batch. Each file is uploaded through
the Files API and submitted with `batches.create`; both steps are recorded in the partial log
at once, so a run killed or interrupted at any point re-attaches to its batches on `--resume`
instead of paying again. It then polls, backing off, and when a batch ends streams each of its
answers through the same judge and verdict as a live case. A line answered with a retryable
error (429, 5xx) goes into a new batch while `--retries` allows. Lines a batch never answered
(it expired, failed or was cancelled) are not recorded: the run stops blocked, and `--resume`
submits exactly those again.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import anyio
import orjson

from replay.config.models import BatchConfig
from replay.errors import AttemptFailed, BlockedError
from replay.models import Attempt, BatchRef, Case, CaseError, CaseResult, Outcome
from replay.run.answers import admitted
from replay.run.endpoint import failed_attempt, sdk_failure, status_failure
from replay.run.pipelines.openai import OpenAIPipeline, Prepared
from replay.run.runner import Budget, Execution, Policy, Progress, Quiet, Sink

if TYPE_CHECKING:
    from openai import AsyncOpenAI

ENDPOINT: Final = "/v1/chat/completions"
FINAL = frozenset({"completed", "expired", "failed", "cancelled"})
"""Batch states after which nothing more will be answered."""
_POLL_FIRST_S = 1.0


def custom_id(case_id: str, repeat: int) -> str:
    """A request's line id in a batch: the case id and the repeat."""
    return f"{case_id}#{repeat}"


@dataclass
class _Line:
    """One request of the run waiting for its answer, with the attempts it has had."""

    case: Case
    repeat: int
    prepared: Prepared
    estimate: float | None
    attempts: list[Attempt] = field(default_factory=list)
    submitted: datetime | None = None

    @property
    def custom_id(self) -> str:
        return custom_id(self.case.input.case_id, self.repeat)


class BatchBlocked(BlockedError):
    """A batch ended with lines it never answered, or the provider stopped answering about it."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, check="model", code=code)


@dataclass
class BatchRunner:
    """Runs a live run through the Batch API; the session sees it as it sees `Runner`."""

    pipeline: OpenAIPipeline
    client: AsyncOpenAI
    settings: BatchConfig
    policy: Policy
    finish: Callable[[Execution], Awaitable[CaseResult]]
    skip: Callable[[Case, int, str], CaseResult]
    sink: Sink
    note: Callable[[BatchRef], Awaitable[None]]
    """Records a submission in the partial log, durably, before the run goes on."""
    run_id: str
    attached: Sequence[BatchRef] = ()
    """Submissions of earlier parts of the run (`--resume`), to re-attach to."""
    estimate: Callable[[Case], float | None] = lambda case: None
    budget: Budget = field(default_factory=lambda: Budget(None))
    progress: Progress = field(default_factory=Quiet)
    interrupted: bool = False
    batches: list[BatchRef] = field(default_factory=list)
    """Every submission this part made or re-attached to, at its last known state."""
    unanswered: list[str] = field(default_factory=list)
    """`CASE_ID#REPEAT` of lines a batch ended without answering."""
    _scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)

    async def run(self, cases: AsyncIterable[tuple[Case, int]]) -> None:
        """Submit every (case, repeat) not answered yet; return when each has its result."""
        with self._scope:
            lines: dict[str, _Line] = {}
            async for case, repeat in cases:
                line = await self._prepared(case, repeat)
                if line is not None:
                    lines[line.custom_id] = line
            waiting = await self._reattach(lines)
            fresh = [line for key, line in lines.items() if key not in waiting]
            while fresh or waiting:
                for chunk in self._chunks(fresh):
                    ref = await self._submit(chunk)
                    waiting.update({line.custom_id: ref.input_file_id for line, _ in chunk})
                fresh = await self._collect(lines, waiting)
                waiting = {}
        if self.unanswered:
            ended = {ref.status for ref in self.batches if ref.status in FINAL} - {"completed"}
            how = "/".join(sorted(ended)) or "ended"
            raise BatchBlocked(
                f"{len(self.unanswered)} request(s) were not answered: their batch {how}; "
                "--resume submits exactly those again",
                code="batch_unanswered",
            )

    def stop(self) -> None:
        """Stop waiting; submitted batches go on at the provider, and `--resume` re-attaches."""
        self.interrupted = True
        self._scope.cancel()

    # --- before submitting ---

    async def _prepared(self, case: Case, repeat: int) -> _Line | None:
        """The line of a (case, repeat), or None when it was settled without one."""
        estimate = self.estimate(case)
        if self.budget.limit_usd is not None and estimate is None:
            await self._put(self.skip(case, repeat, "unpriced_model"))
            return None
        if not self.budget.admit(estimate):
            await self._put(self.skip(case, repeat, "budget"))
            return None
        now = datetime.now(UTC)
        try:
            prepared = await self.pipeline.prepare(case.input)
        except AttemptFailed as failure:
            attempt = failed_attempt(1, 0.0, failure, None)
            await self._done(case, repeat, None, _error(failure, 1), (attempt,), now, estimate)
            return None
        if isinstance(prepared, Outcome):  # the response cache answered it
            attempt = Attempt(number=1, duration_ms=0.0)
            await self._done(case, repeat, prepared, None, (attempt,), now, estimate)
            return None
        return _Line(case, repeat, prepared, estimate)

    async def _reattach(self, lines: dict[str, _Line]) -> dict[str, str]:
        """Which waiting lines an earlier part's batches will answer: custom id → input file."""
        waiting: dict[str, str] = {}
        for ref in self.attached:
            mine = [key for key in ref.custom_ids if key in lines]
            if ref.id is None or ref.status in FINAL or not mine:
                # Never submitted (killed after the upload), or ended with every answer
                # recorded: what is left of it was never answered and goes again.
                continue
            self.batches.append(ref)
            waiting.update(dict.fromkeys(mine, ref.input_file_id))
        return waiting

    def _chunks(self, lines: list[_Line]) -> Iterator[list[tuple[_Line, bytes]]]:
        """The lines as input files within the provider's limits of lines and bytes."""
        chunk: list[tuple[_Line, bytes]] = []
        size = 0
        for line in lines:
            data = orjson.dumps(
                {"custom_id": line.custom_id, "method": "POST", "url": ENDPOINT,
                 "body": line.prepared.body}
            ) + b"\n"  # fmt: skip
            full = len(chunk) >= self.settings.max_lines
            if chunk and (full or size + len(data) > self.settings.max_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append((line, data))
            size += len(data)
        if chunk:
            yield chunk

    async def _submit(self, chunk: list[tuple[_Line, bytes]]) -> BatchRef:
        """Upload one input file and create its batch, recording each step at once."""
        now = datetime.now(UTC)
        name = f"replay-{self.run_id}-{len(self.batches) + 1}.jsonl"
        data = b"".join(data for _, data in chunk)
        try:
            with anyio.CancelScope(shield=True):  # a signal never splits upload from create
                ref = await self._submitted(chunk, name, data, now)
        except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
            raise _refused(exc, "submitting a batch") from None
        return ref

    async def _submitted(
        self, chunk: list[tuple[_Line, bytes]], name: str, data: bytes, now: datetime
    ) -> BatchRef:
        uploaded = await self.client.files.create(file=(name, data), purpose="batch")
        ref = BatchRef(
            input_file_id=uploaded.id,
            custom_ids=[line.custom_id for line, _ in chunk],
            submitted_at=now,
        )
        await self.note(ref)
        created = await self.client.batches.create(
            input_file_id=uploaded.id,
            endpoint=ENDPOINT,
            completion_window=self.settings.window,  # type: ignore[arg-type]
            metadata={"replay_run": self.run_id},
        )
        ref = ref.model_copy(update={"id": created.id, "status": created.status})
        await self.note(ref)
        self.batches.append(ref)
        for line, _ in chunk:
            line.submitted = now
            self.progress.started()
        return ref

    # --- after submitting ---

    async def _collect(self, lines: dict[str, _Line], waiting: dict[str, str]) -> list[_Line]:
        """Poll every batch the waiting lines are in until each ends; return lines to retry."""
        by_file = {ref.input_file_id: ref for ref in self.batches}
        open_ = set(waiting.values())
        retry: list[_Line] = []
        delay = _POLL_FIRST_S
        failures = 0
        while open_:
            for file_id in sorted(open_):
                ref = by_file[file_id]
                assert ref.id is not None
                try:
                    batch = await self.client.batches.retrieve(ref.id)
                except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
                    failures += 1
                    if failures > self.policy.retries:
                        raise _refused(exc, f"asking about batch {ref.id}") from None
                    continue
                failures = 0
                if batch.status not in FINAL:
                    continue
                ref = self._ended(ref, batch)
                by_file[file_id] = ref
                open_.discard(file_id)
                mine = {key for key, owner in waiting.items() if owner == file_id}
                retry.extend(await self._answers(ref, batch, {k: lines[k] for k in mine}))
            if open_:
                await anyio.sleep(delay)
                delay = min(delay * 2, self.settings.poll_max_s)
        return retry

    def _ended(self, ref: BatchRef, batch: Any) -> BatchRef:
        counts = getattr(batch, "request_counts", None)
        ended = ref.model_copy(
            update={
                "status": batch.status,
                "finished_at": datetime.now(UTC),
                "completed": getattr(counts, "completed", None),
                "failed": getattr(counts, "failed", None),
            }
        )
        self.batches[:] = [
            ended if r.input_file_id == ref.input_file_id else r for r in self.batches
        ]
        return ended

    async def _answers(self, ref: BatchRef, batch: Any, lines: dict[str, _Line]) -> list[_Line]:
        """Settle each line a batch answered; return those to submit again.

        The batch's end is recorded only once every answer is on disk: on `--resume`, a batch
        recorded as ended has nothing left to give, and one that is not is asked again.
        """
        answers: dict[str, Any] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            try:
                content = await self.client.files.content(file_id)
                raw = content.read()
            except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
                raise _refused(exc, f"reading the results of batch {ref.id}") from None
            for row in raw.splitlines():
                try:
                    answer = orjson.loads(row)
                except orjson.JSONDecodeError:
                    continue  # an unreadable line answers nothing: its request goes again
                if isinstance(answer, dict) and isinstance(answer.get("custom_id"), str):
                    answers[answer["custom_id"]] = answer
        retry: list[_Line] = []
        for key, line in lines.items():
            answer = answers.get(key)
            response = answer.get("response") if answer else None
            if not isinstance(response, dict):  # expired, cancelled, failed: never answered
                self.unanswered.append(key)
                continue
            if await self._settle(line, response):
                retry.append(line)
        await self.note(ref)
        return retry

    async def _settle(self, line: _Line, response: dict[str, Any]) -> bool:
        """Record one answered line; True when it failed retryably and may go again."""
        number = len(line.attempts) + 1
        began = line.submitted or datetime.now(UTC)
        duration = (datetime.now(UTC) - began).total_seconds() * 1000
        status = response.get("status_code")
        try:
            if status != 200:
                raise status_failure(status if isinstance(status, int) else 500, None)
            outcome = await self.pipeline.answered(line.prepared, response.get("body"))
            outcome = admitted(
                outcome, max_chars=self.policy.max_answer_chars, error_class="model_error"
            )
        except AttemptFailed as failure:
            again = failure.retryable and number <= self.policy.retries
            line.attempts.append(failed_attempt(number, duration, failure, 0.0 if again else None))
            if again:
                self.progress.retried()
                return True
            error = _error(failure, number)
            await self._done(
                line.case, line.repeat, None, error, tuple(line.attempts), began, line.estimate
            )
            return False
        line.attempts.append(Attempt(number=number, duration_ms=round(duration, 3)))
        await self._done(
            line.case, line.repeat, outcome, None, tuple(line.attempts), began, line.estimate
        )
        return False

    async def _done(
        self,
        case: Case,
        repeat: int,
        outcome: Outcome | None,
        error: CaseError | None,
        attempts: tuple[Attempt, ...],
        started: datetime,
        estimate: float | None,
    ) -> None:
        execution = Execution(
            case=case,
            repeat=repeat,
            outcome=outcome,
            error=error,
            attempts=attempts,
            started_at=started,
            finished_at=datetime.now(UTC),
            latency_ms=None,  # a batch answers within hours: no latency of the model's
        )
        result = await self.finish(execution)
        spent = result.cost_usd
        if spent is None and result.outcome is not None:
            spent = estimate
        self.budget.settle(estimate, spent)
        await self._put(result)

    async def _put(self, result: CaseResult) -> None:
        await self.sink.put(result)
        self.progress.finished(result)


async def look(client: AsyncOpenAI, refs: Sequence[BatchRef]) -> list[BatchRef]:
    """Each submitted batch as the provider sees it now (`replay batch-status`).

    Raises:
        BatchBlocked: the provider does not answer about one of them.
    """
    seen: list[BatchRef] = []
    for ref in refs:
        if ref.id is None:
            seen.append(ref)
            continue
        try:
            batch = await client.batches.retrieve(ref.id)
        except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
            raise _refused(exc, f"asking about batch {ref.id}") from None
        counts = getattr(batch, "request_counts", None)
        seen.append(
            ref.model_copy(
                update={
                    "status": batch.status,
                    "completed": getattr(counts, "completed", None),
                    "failed": getattr(counts, "failed", None),
                }
            )
        )
    return seen


def _error(failure: AttemptFailed, attempts: int) -> CaseError:
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    return CaseError(
        error_class=failure.error_class, message=failure.message + suffix, status=failure.status
    )


def _refused(exc: Exception, doing: str) -> BatchBlocked:
    """A failure of the Files or Batches API as the run's blocked cause, in our words."""
    failure = sdk_failure(exc, "the Batch API")
    return BatchBlocked(
        f"{failure.message} while {doing}; --resume re-attaches to what was submitted",
        code="batch_api",
    )
