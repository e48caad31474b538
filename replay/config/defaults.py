"""Defaults in one place, so `replay.toml` and environment variables can override every one."""

from __future__ import annotations

from pathlib import Path
from typing import Final

ARTIFACTS_DIR: Final = Path(".artifacts/ai-replay")
CONFIG_FILE: Final = Path("replay.toml")

LIMIT: Final = 20
THREAD_LIMIT: Final = 20
STATUS: Final = "succeeded"
CHANNELS: Final = ("email", "sms", "linkedin")
MAX_BODY_CHARS: Final = 50_000
"""An inbound body longer than this is an invalid case: no production prompt would carry it."""

CONCURRENCY: Final = 3
RETRIES: Final = 3
REQUEST_TIMEOUT_S: Final = 60.0
CASE_TIMEOUT_S: Final = 180.0
CONNECT_TIMEOUT_S: Final = 10.0

PIPELINE: Final = "openai"
REQUEST_SOURCE: Final = "auto"
MODEL: Final = "gpt-4o-mini"
DEFAULT_OUTPUT_TOKENS: Final = 256
"""Output estimate for a dry run when the case has no original draft and no max_tokens."""

CHARS_PER_TOKEN: Final = 4
MAX_ANSWER_CHARS: Final = 100_000
"""The longest draft kept: far above any reply draft, far below a runaway answer."""
CACHE: Final = "off"
"""The `openai` pipeline's response cache is a choice a run makes, never a surprise."""
CACHE_MAX_MB: Final = 512
"""The bound of each cache folder (the pipeline's and the judge's), in MB."""
PACING: Final = "on"
"""Pacing follows only limits an endpoint states (or `--rpm`/`--tpm` give): with none, it is
nothing but the concurrency bound."""
VIA: Final = "live"
BATCH_WINDOW: Final = "24h"
"""The Batch API's completion window: what OpenAI accepts."""
BATCH_MAX_LINES: Final = 50_000
BATCH_MAX_MB: Final = 200
"""OpenAI's documented limits of one batch's input file: larger selections go in several."""
BATCH_POLL_S: Final = 10.0
"""The longest wait between two looks at a batch in progress (backing off from 1 s)."""

REPORT_AUTO_MAX_CASES = 5_000
"""Runs up to this size get their HTML report written automatically (it reads the whole run)."""
