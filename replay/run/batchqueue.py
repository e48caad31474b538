"""Requests gathered into Batch API submissions, each caller awaiting its own answer.

`ask(custom_id, body)` queues one chat request and returns the provider's answer line
(`{"status_code": …, "body": …}`) once its batch has ended. The queue's `run` task submits what
has gathered once no request arrived for a moment (or a batch is full), within the provider's
limits of lines and bytes; records each upload and batch id at once (`note`), so a run
stopped at any point finds them again; and polls every open batch, backing off. The drafts of
`--via batch` and the judge of `--judge-via batch` each have a queue.

On `--resume` the queue starts with the run's earlier submissions: their answers (fetched again
when a batch had ended) go to the askers of those ids instead of new submissions, so nothing
submitted is paid twice. A line a batch ended without answering (expired, failed, cancelled)
raises `Unanswered`: its asker leaves it for `--resume`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import anyio
import orjson

from replay.config import defaults
from replay.config.models import BatchConfig
from replay.errors import BlockedError
from replay.models import BatchRef
from replay.run.endpoint import sdk_failure

if TYPE_CHECKING:
    from openai import AsyncOpenAI

ENDPOINT: Final = "/v1/chat/completions"
FINAL = frozenset({"completed", "expired", "failed", "cancelled"})
"""Batch states after which nothing more will be answered."""
LINGER_S = 0.5
"""How long the queue waits for more requests after the last one before it submits."""
_POLL_FIRST_S = 1.0


class Unanswered(Exception):
    """The batch holding this request ended without answering it; `--resume` asks again."""

    def __init__(self, status: str | None) -> None:
        super().__init__(status)
        self.status = status


class BatchBlocked(BlockedError):
    """The Batch API refused a submission, stopped answering, or left requests unanswered."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, check="model", code=code)


@dataclass
class _Waiter:
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: dict[str, Any] | None = None
    status: str | None = None


@dataclass
class BatchQueue:
    """One stream of Batch API submissions; see the module docstring."""

    client: AsyncOpenAI
    settings: BatchConfig
    note: Callable[[BatchRef], Awaitable[None]]
    """Records a submission durably before the run goes on."""
    run_id: str
    what: str = "request"
    """Names the queue's batches (`draft`, `judge`) in file names and messages."""
    attached: Sequence[BatchRef] = ()
    """Earlier parts' submissions (`--resume`): their answers go to askers of their ids."""
    linger_s: float = LINGER_S
    retries: int = 3
    """Consecutive failures to ask about a batch before the run stops blocked."""
    batches: list[BatchRef] = field(default_factory=list)
    """Every submission made or re-attached to, at its last known state."""
    _pending: dict[str, bytes] = field(default_factory=dict)
    _waiters: dict[str, _Waiter] = field(default_factory=dict)
    _open: dict[str, set[str]] = field(default_factory=dict)
    """Batch id → the custom ids it answers that someone awaits or may await."""
    _kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers of re-attached batches that nobody has asked for yet."""
    _arrived: anyio.Event = field(default_factory=anyio.Event)
    _last_arrival: float = 0.0

    def __post_init__(self) -> None:
        for ref in self.attached:
            if ref.id is not None:
                self.batches.append(ref)
                self._open[ref.id] = set(ref.custom_ids)

    async def ask(self, custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Queue one request and return its answer line's `response` once its batch ends.

        Raises:
            Unanswered: its batch ended without answering it.
        """
        if custom_id in self._kept:
            return self._kept.pop(custom_id)
        waiter = self._waiters.get(custom_id)
        if waiter is None:
            waiter = self._waiters[custom_id] = _Waiter()
            if not any(custom_id in ids for ids in self._open.values()):
                line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
                self._pending[custom_id] = orjson.dumps(line) + b"\n"
                self._last_arrival = anyio.current_time()
                self._arrived.set()
        await waiter.done.wait()
        if waiter.answer is None:
            raise Unanswered(waiter.status)
        return waiter.answer

    async def run(self) -> None:
        """Submit, poll and answer until cancelled (by the owner, once nobody waits)."""
        await self._find_uncreated()
        delay = _POLL_FIRST_S
        while True:
            if self._pending:
                quiet = anyio.current_time() - self._last_arrival
                if quiet >= self.linger_s or len(self._pending) >= self.settings.max_lines:
                    await self._submit_pending()
                    delay = _POLL_FIRST_S
                    continue
                await anyio.sleep(self.linger_s - quiet)
                continue
            if not self._open:
                self._arrived = anyio.Event()
                await self._arrived.wait()
                continue
            await self._poll()
            if self._open and not self._pending:
                with anyio.move_on_after(delay):
                    self._arrived = anyio.Event()
                    await self._arrived.wait()
                delay = min(delay * 2, defaults.BATCH_POLL_S)

    async def _find_uncreated(self) -> None:
        """Earlier uploads whose batch id was never recorded (a kill between upload and create).

        The provider lists its recent batches with their input file: one made from such an
        upload is attached; an upload without a batch is left, and its requests go again.
        """
        uploads = {ref.input_file_id: ref for ref in self.attached if ref.id is None}
        if not uploads:
            return
        try:
            async for batch in self.client.batches.list(limit=100):
                ref = uploads.pop(batch.input_file_id, None)
                if ref is not None:
                    ref = ref.model_copy(update={"id": batch.id, "status": batch.status})
                    await self.note(ref)
                    self.batches.append(ref)
                    self._open[batch.id] = set(ref.custom_ids)
                if not uploads:
                    break
        except Exception:  # noqa: BLE001 - a provider that cannot list: the requests go again
            return

    # --- submitting ---

    async def _submit_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for chunk in _chunks(pending, self.settings):
            try:
                with anyio.CancelScope(shield=True):  # a signal never splits upload from create
                    ref = await self._submit(chunk)
            except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
                raise refused(exc, f"submitting a {self.what} batch") from None
            self.batches.append(ref)
            assert ref.id is not None
            self._open[ref.id] = set(chunk)

    async def _submit(self, chunk: dict[str, bytes]) -> BatchRef:
        name = f"replay-{self.run_id}-{self.what}-{len(self.batches) + 1}.jsonl"
        uploaded = await self.client.files.create(
            file=(name, b"".join(chunk.values())), purpose="batch"
        )
        ref = BatchRef(
            input_file_id=uploaded.id, custom_ids=list(chunk), submitted_at=datetime.now(UTC)
        )
        await self.note(ref)
        created = await self.client.batches.create(
            input_file_id=uploaded.id,
            endpoint=ENDPOINT,
            completion_window=self.settings.window,  # type: ignore[arg-type]
            metadata={"replay_run": self.run_id, "replay_input": self.what},
        )
        ref = ref.model_copy(update={"id": created.id, "status": created.status})
        await self.note(ref)
        return ref

    # --- polling ---

    async def _poll(self) -> None:
        for batch_id in sorted(self._open):
            failures = 0
            while True:
                try:
                    batch = await self.client.batches.retrieve(batch_id)
                    break
                except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
                    failures += 1
                    if failures > self.retries:
                        raise refused(exc, f"asking about batch {batch_id}") from None
                    await anyio.sleep(_POLL_FIRST_S * failures)
            if batch.status in FINAL:
                await self._ended(batch_id, batch)

    async def _ended(self, batch_id: str, batch: Any) -> None:
        answers: dict[str, dict[str, Any]] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                answers.update(await self._answers(batch_id, file_id))
        counts = getattr(batch, "request_counts", None)
        update = {
            "status": batch.status,
            "finished_at": datetime.now(UTC),
            "completed": getattr(counts, "completed", None),
            "failed": getattr(counts, "failed", None),
        }
        self.batches[:] = [
            ref.model_copy(update=update) if ref.id == batch_id else ref for ref in self.batches
        ]
        for custom_id in self._open.pop(batch_id):
            answer = answers.get(custom_id)
            waiter = self._waiters.pop(custom_id, None)
            if waiter is None:
                if answer is not None:
                    self._kept[custom_id] = answer
                continue
            waiter.answer, waiter.status = answer, batch.status
            waiter.done.set()
        ref = next(ref for ref in self.batches if ref.id == batch_id)
        await self.note(ref)

    async def _answers(self, batch_id: str, file_id: str) -> dict[str, dict[str, Any]]:
        """The answered lines of one result file, by custom id (`response` set, status any)."""
        import openai

        try:
            content = await self.client.files.content(file_id)
            raw = content.read()
        except openai.NotFoundError:
            return {}  # gone at the provider (an old batch): its requests go again
        except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
            raise refused(exc, f"reading the results of batch {batch_id}") from None
        found: dict[str, dict[str, Any]] = {}
        for row in raw.splitlines():
            try:
                line = orjson.loads(row)
            except orjson.JSONDecodeError:
                continue  # an unreadable line answers nothing: its request goes again
            if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
                continue
            response = line.get("response")
            if isinstance(response, dict):
                found[line["custom_id"]] = response
        return found


def _chunks(lines: dict[str, bytes], settings: BatchConfig) -> Iterator[dict[str, bytes]]:
    """Input files within the provider's limits of lines and bytes."""
    chunk: dict[str, bytes] = {}
    size = 0
    for custom_id, data in lines.items():
        full = len(chunk) >= settings.max_lines
        if chunk and (full or size + len(data) > settings.max_bytes):
            yield chunk
            chunk, size = {}, 0
        chunk[custom_id] = data
        size += len(data)
    if chunk:
        yield chunk


def refused(exc: Exception, doing: str) -> BatchBlocked:
    """A failure of the Files or Batches API as the run's blocked cause, in our words."""
    failure = sdk_failure(exc, "the Batch API")
    return BatchBlocked(
        f"{failure.message} while {doing}; --resume re-attaches to what was submitted",
        code="batch_api",
    )
