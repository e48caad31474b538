"""The CLI's progress display: a live bar on a terminal, else a plain line every few seconds."""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from replay.models import CaseResult


class _Counts:
    """What every display shows."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.in_flight = 0
        self.retries = 0
        self.errors = 0
        self.tokens = 0
        self.spend = 0.0
        self.unpriced = 0
        """Cases whose draft came back with no known cost: their spend is not in `spend`."""

    def count(self, result: CaseResult) -> None:
        self.done += 1
        if result.outcome is not None or result.error is not None:
            self.in_flight = max(self.in_flight - 1, 0)
        if result.error is not None:
            self.errors += 1
        control = result.control.outcome if result.control is not None else None
        for outcome in (result.outcome, control):  # the control arm's tokens are paid too
            if outcome is not None and outcome.usage is not None and not outcome.cached:
                self.tokens += outcome.usage.prompt_tokens + outcome.usage.completion_tokens
        if result.cost_usd is not None:
            self.spend += result.cost_usd
        elif result.outcome is not None:
            self.unpriced += 1

    def line(self) -> str:
        return (
            f"{self.in_flight} in flight, {self.retries} retries, {self.errors} errors, "
            f"{self.tokens:,} tokens, {self._spend()}"
        )

    def _spend(self) -> str:
        """The spend so far; a draft without a known cost is said, never counted as $0."""
        if self.unpriced and not self.spend:
            return "spend not measured (unpriced)"
        if self.unpriced:
            return f"${self.spend:.4f} + {self.unpriced} unpriced"
        return f"${self.spend:.4f}"


class BarProgress(_Counts):
    """A rich progress bar with done/total, in flight, retries, errors, tokens, spend and ETA."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._bar = RichProgress(
            TextColumn("replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._bar.add_task("cases", total=None, detail="")

    def begin(self, total: int, done: int = 0) -> None:
        """Show the total, and what earlier parts of the run finished."""
        self.total, self.done = total, done
        self._bar.update(self._task, total=total, completed=done)
        self._bar.start()

    def started(self) -> None:
        """Count a case in flight."""
        self.in_flight += 1
        self._refresh()

    def retried(self) -> None:
        """Count a retry."""
        self.retries += 1
        self._refresh()

    def finished(self, result: CaseResult) -> None:
        """Count a finished case."""
        self.count(result)
        self._refresh()

    def end(self) -> None:
        """Show the final state."""
        self._refresh()
        self._bar.stop()

    def _refresh(self) -> None:
        self._bar.update(self._task, completed=self.done, detail=self.line())


class LineProgress(_Counts):
    """One plain line every few seconds, for logs and CI."""

    def __init__(self, stream: TextIO, every_s: float = 5.0) -> None:
        super().__init__()
        self._stream = stream
        self._every_s = every_s
        self._started = time.monotonic()
        self._last = self._started

    def begin(self, total: int, done: int = 0) -> None:
        """Show the total, and what earlier parts of the run finished."""
        self.total, self.done = total, done

    def started(self) -> None:
        """Count a case in flight."""
        self.in_flight += 1

    def retried(self) -> None:
        """Count a retry."""
        self.retries += 1

    def finished(self, result: CaseResult) -> None:
        """Count a finished case."""
        self.count(result)
        now = time.monotonic()
        if now - self._last >= self._every_s:
            self._last = now
            self._write(now)

    def end(self) -> None:
        """Show the final state."""
        self._write(time.monotonic())

    def _write(self, now: float) -> None:
        elapsed = now - self._started
        eta = ""
        if self.done and self.total > self.done:
            eta = f", about {elapsed / self.done * (self.total - self.done):.0f} s left"
        print(
            f"progress: {self.done}/{self.total} done, {self.line()}{eta}",
            file=self._stream,
            flush=True,
        )


def progress_for(stream: TextIO) -> BarProgress | LineProgress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
