"""Answers on disk, content-addressed: the judge's cache and the pipeline's response cache.

An entry is found by `request_key`: SHA-256 of the endpoint's base URL and the request body as
canonical JSON (model, messages, parameters). Never a header, so no API key can reach the disk
or change a key. Each entry is one JSON file written through `store.atomic` (0600, in folders
of 0700): a crash leaves no torn entry, and an entry that cannot be read or parsed is a miss.
A write that fails is skipped: a cache never fails a run.

A store is bounded. Its size is measured once, at its first write, and kept up to date as it
writes; when it passes the bound, one pass removes the least recently used entries (oldest
modification time; a hit touches its entry) until it is under `LOW_WATER` of the bound, so the
writes that follow do not each walk the folder again. Other processes writing to the same
folder make the count approximate; the next pass over the folder corrects it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from replay.artifacts.store import atomic

JUDGE: Final = "judge-cache"
"""The judge's folder in the artifacts folder."""
RESPONSES: Final = "response-cache"
"""The `openai` pipeline's folder in the artifacts folder (`--cache`)."""
MB: Final = 1_000_000
"""Bytes in the megabyte of `--cache-max-mb`."""
LOW_WATER: Final = 0.9
"""A pass over a store past its bound leaves it at this share of the bound."""


def request_key(base_url: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the base URL and the request body as canonical JSON (sorted keys)."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(base_url.encode() + b"\0" + canonical).hexdigest()


class Store:
    """A folder of JSON entries, one per key; see the module docstring.

    Safe to call from several worker threads at once: the size is kept under a lock.
    """

    def __init__(self, directory: Path, *, max_bytes: int | None = None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        """None: unbounded."""
        self._size: int | None = None
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        """Where the entry of `key` lives: a folder per first two hex digits keeps them small."""
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, touched as used; None when missing, unreadable or not an object."""
        path = self.path(key)
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a hit is a use: the least recently used go first
        return data

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        """Store an entry; one that cannot be serialized or written is skipped, never fatal."""
        try:
            body = orjson.dumps(entry)
        except TypeError:  # orjson's encode error: text no JSON can hold
            return
        path = self.path(key)
        try:
            before = path.stat().st_size
        except OSError:
            before = 0
        try:
            with atomic(path) as out:
                out.write(body)
        except OSError:
            return
        self._grew(len(body) - before)

    def _grew(self, delta: int) -> None:
        """Count a write; past the bound, prune the least recently used in one pass."""
        if self.max_bytes is None:
            return
        with self._lock:
            if self._size is None:
                self._size = sum(entry.size for entry in _entries(self.directory))
            else:
                self._size += delta
            if self._size > self.max_bytes:
                self._size = _shrink(self.directory, int(self.max_bytes * LOW_WATER))


class _Entry(NamedTuple):
    used: float
    """Modification time: when it was written or last hit."""
    size: int
    path: Path


def _entries(directory: Path) -> Iterator[_Entry]:
    """Every entry of a store (never a temporary file of a write in progress)."""
    try:
        shards = [item for item in os.scandir(directory) if item.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for shard in shards:
        try:
            files = list(os.scandir(shard.path))
        except OSError:
            continue
        for item in files:
            if item.name.startswith(".") or not item.name.endswith(".json"):
                continue
            try:
                stat = item.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            yield _Entry(stat.st_mtime, stat.st_size, Path(item.path))


def _shrink(directory: Path, target: int) -> int:
    """Remove the least recently used entries until the store holds `target` bytes at most.

    Returns:
        What the store holds afterwards.
    """
    entries = sorted(_entries(directory))
    total = sum(entry.size for entry in entries)
    for entry in entries:
        if total <= target:
            break
        with contextlib.suppress(OSError):
            entry.path.unlink()
            total -= entry.size
    return total


def prune_unused(directory: Path, days: int, *, now: datetime) -> int:
    """Remove the entries of a store not used for `days` (retention); return how many went."""
    cutoff = (now - timedelta(days=days)).timestamp()
    removed = 0
    for entry in _entries(directory):
        if entry.used >= cutoff:
            continue
        with contextlib.suppress(OSError):
            entry.path.unlink()
            removed += 1
    return removed
