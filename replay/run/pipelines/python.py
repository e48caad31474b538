"""`python:module:function` pipelines: a team's own drafting code, called in-process."""

from __future__ import annotations

import importlib
import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from replay.errors import AttemptFailed, UsageError
from replay.models import CaseInput, ErrorClass, Outcome
from replay.run.pipelines.base import to_outcome


def load(spec: str) -> Callable[..., Any]:
    """Import `module:function` from `python:module:function`; the current directory is on the path.

    Raises:
        UsageError: the spec is malformed, or the module or function cannot be imported.
    """
    target = spec.removeprefix("python:")
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise UsageError(f"--pipeline must be python:module:function, got {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the team's module may raise anything while importing
        raise UsageError(
            f"--pipeline {spec!r}: cannot import module {module_name!r} ({type(exc).__name__})"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UsageError(
            f"--pipeline {spec!r}: module {module_name!r} has no function {function_name!r}"
        )
    return function  # type: ignore[no-any-return]


class PythonPipeline:
    """Calls `async def f(case) -> Outcome | str | dict`; a sync one runs in a worker thread."""

    def __init__(self, spec: str, function: Callable[..., Any], concurrency: int) -> None:
        self.name = spec
        self.malformed: ErrorClass = "pipeline_error"
        self._function = function
        self._is_async = inspect.iscoroutinefunction(function)
        # Its own threads: a hung team function must not starve the artifact writer's.
        self._threads = anyio.CapacityLimiter(concurrency)

    async def draft(self, case: CaseInput) -> Outcome:
        """Call the function once; whatever it raises or returns wrongly is a pipeline_error."""
        try:
            if self._is_async:
                value = await self._function(case)
            else:
                # A thread cannot be stopped: on a timeout or Ctrl-C it is abandoned, so the
                # deadlines hold and the run can end; its late answer is dropped.
                value = await anyio.to_thread.run_sync(
                    self._function, case, abandon_on_cancel=True, limiter=self._threads
                )
        except Exception as exc:  # the team's code: any exception is that case's pipeline_error
            raise AttemptFailed(
                "pipeline_error",
                f"{self.name} raised {type(exc).__name__}{_where(exc)}",
                retryable=False,
            ) from None
        return to_outcome(value, self.name)

    async def aclose(self) -> None:
        """Nothing to release."""


def _where(exc: BaseException) -> str:
    """Say ` at file:line` of the innermost frame; never the message (it may hold secrets)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    return f" at {Path(frame.filename).name}:{frame.lineno}"
