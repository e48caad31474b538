"""The content-addressed store both caches share: keys, privacy, misses, the bound, retention."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replay.artifacts import cache
from replay.artifacts.cache import Store, request_key

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _aged(path: Path, seconds_ago: float) -> None:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


def test_the_key_is_the_endpoint_and_the_canonical_body() -> None:
    """Key order does not matter; the endpoint and every request value do."""
    reordered = {"temperature": 0.2, "messages": BODY["messages"], "model": "m"}
    assert request_key("http://a/v1", BODY) == request_key("http://a/v1", reordered)
    assert request_key("http://a/v1", BODY) != request_key("http://b/v1", BODY)
    assert request_key("http://a/v1", BODY) != request_key(
        "http://a/v1", BODY | {"temperature": 0.3}
    )
    assert len(request_key("http://a/v1", BODY)) == 64


def test_an_entry_round_trips_privately(tmp_path: Path) -> None:
    """A stored entry reads back; its file is 0600 and every folder the store made is 0700."""
    store = Store(tmp_path / "store")
    key = request_key("http://a/v1", BODY)
    assert store.get(key) is None
    store.put(key, {"text": "hello", "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    assert store.get(key) == {
        "text": "hello",
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    path = store.path(key)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(tmp_path / "store") == 0o700
    assert [item.name for item in path.parent.iterdir()] == [path.name], "no temporary left"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, content: bytes) -> None:
    """Torn, empty, non-UTF-8 or not an object: a miss, never an error."""
    store = Store(tmp_path)
    key = request_key("http://a/v1", BODY)
    store.put(key, {"text": "x"})
    store.path(key).write_bytes(content)
    assert store.get(key) is None


def test_a_failed_write_is_skipped(tmp_path: Path) -> None:
    """A store that cannot be written (its folder is a file) is skipped, never fatal."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = Store(blocker / "store", max_bytes=10)
    store.put("ab" * 32, {"text": "x"})
    assert store.get("ab" * 32) is None


def test_an_entry_no_json_can_hold_is_skipped(tmp_path: Path) -> None:
    """Text with a lone surrogate cannot be written as JSON: the entry is skipped."""
    store = Store(tmp_path)
    store.put("cd" * 32, {"text": "\ud83d"})
    assert store.get("cd" * 32) is None
    assert not list(tmp_path.rglob("*.json"))


def _filled(store: Store, count: int, size: int) -> list[str]:
    """`count` entries of about `size` bytes, the first the least recently used."""
    keys = [f"{index:02x}" * 32 for index in range(count)]
    for age, key in zip(range(count, 0, -1), keys, strict=True):
        store.put(key, {"text": "x" * size})
        _aged(store.path(key), age * 60)
    return keys


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*.json"))


def test_a_store_past_its_bound_loses_its_least_recently_used_entries(tmp_path: Path) -> None:
    """Past the bound, the oldest entries go first, until the store is under the bound."""
    store = Store(tmp_path, max_bytes=10_000)
    keys = _filled(Store(tmp_path), 9, 1_000)  # filled unbounded: 9 KB, under the bound
    assert store.get(keys[0]) is not None  # a hit touches it: now the most recently used
    store.put("ff" * 32, {"text": "y" * 3_000})  # 12 KB: over
    left = {key for key in [*keys, "ff" * 32] if store.path(key).exists()}
    assert _size(tmp_path) <= 10_000 * cache.LOW_WATER
    assert {keys[0], "ff" * 32} <= left, "the touched entry and the new one stay"
    gone = [key for key in keys if key not in left]
    assert gone == keys[1 : 1 + len(gone)] and gone, "the oldest untouched ones went, in order"


def test_the_size_is_measured_once_not_per_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is walked at the first write and when over the bound, not on every write."""
    walks: list[Path] = []
    real = cache._entries

    def counted(directory: Path) -> Iterator[cache._Entry]:
        walks.append(directory)
        return real(directory)

    monkeypatch.setattr(cache, "_entries", counted)
    store = Store(tmp_path, max_bytes=1_000_000)
    for index in range(20):
        store.put(f"{index:02x}" * 32, {"text": "z" * 100})
    assert len(walks) == 1
    store.put("ee" * 32, {"text": "z" * 1_000_000})  # over: one pass prunes
    assert len(walks) == 2
    assert _size(tmp_path) <= 1_000_000


def test_retention_removes_entries_unused_for_n_days(tmp_path: Path) -> None:
    """`prune_unused` removes entries neither written nor hit for `days`; a missing store is 0."""
    store = Store(tmp_path / "store")
    old, recent = "01" * 32, "02" * 32
    store.put(old, {"text": "old"})
    store.put(recent, {"text": "recent"})
    _aged(store.path(old), 40 * 86400)
    _aged(store.path(recent), 10 * 86400)
    assert cache.prune_unused(tmp_path / "store", 30, now=datetime.now(UTC)) == 1
    assert store.get(old) is None and store.get(recent) is not None
    assert cache.prune_unused(tmp_path / "absent", 30, now=datetime.now(UTC)) == 0
