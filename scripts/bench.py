"""Measure the numbers docs/architecture.md sets targets for, and print them beside them.

Selection and dry run on a 200,000-message fixture database; the live runner against the local
model server (its own process, fixed latency) next to a bare AsyncOpenAI loop in the same
invocation; peak memory of a 1,000-case and a 20,000-case run. Fixture databases are generated
once and cached under .artifacts/bench-pg.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import openai
import orjson
from pydantic import SecretStr

from replay.config.file import LoadedToml
from replay.config.keys import TomlConfig
from replay.config.models import DatabaseConfig, SelectionConfig
from replay.config.views import views
from replay.devtools import generator, pg, stub_model
from replay.source import db
from replay.source import selection as case_selection

PGDATA = Path(".artifacts/bench-pg").resolve()
KEY = "bench-key"
LATENCY_MS = 100
SELECTION_DB = ("replay_bench", 10, 9_100, 11)  # name, clients, jobs per client, seed
MEMORY_DB = ("replay_bench_big", 1, 25_000, 13)
SELECTED = 1_000
RUNNER_POINTS = ((1, 200), (8, 2_000), (32, 2_000), (64, 2_000))


SIGNALS_DB = "replay_bench_signals"
SIGNALS_JOBS = 1_000_000
_SIGNALS_SQL = """
CREATE TABLE IF NOT EXISTS bench_marker (jobs int);
INSERT INTO clients VALUES ('00000000-0000-4000-8000-00000000b001', 'Bench Co', '{}');
INSERT INTO leads (id, client_id, first_name, created_at)
  VALUES ('00000000-0000-4000-8000-00000000b002', '00000000-0000-4000-8000-00000000b001',
          'Bench', '2026-11-01');
INSERT INTO messages (id, client_id, lead_id, channel, direction, body, sent_at)
  SELECT gen_random_uuid(), '00000000-0000-4000-8000-00000000b001',
         '00000000-0000-4000-8000-00000000b002', 'sms', 'inbound', 'hi',
         timestamptz '2026-11-22' - i * interval '0.6 s'
  FROM generate_series(1, $1::int) AS i;
INSERT INTO draft_jobs (id, client_id, lead_id, trigger_message_id, job_type, status,
    dedupe_key, attempts, max_attempts, dispatch_mode, cohort, enqueued_at, started_at,
    finished_at, last_error)
  SELECT gen_random_uuid(), client_id, lead_id, id, 'reply_draft',
         CASE WHEN random() < 0.02 THEN 'failed' ELSE 'succeeded' END,
         'reply:' || id, 1 + (random() < 0.05)::int, 3,
         CASE WHEN random() < 0.25 THEN 'queued' ELSE 'inline' END,
         CASE WHEN random() < 0.25 THEN 'canary' ELSE 'control' END,
         sent_at, sent_at + random() * interval '0.8 s', sent_at + interval '3 s', NULL
  FROM messages WHERE client_id = '00000000-0000-4000-8000-00000000b001';
INSERT INTO bench_marker VALUES ($1::int);
ANALYZE;
"""


async def _signals_fixtures(uri: str) -> None:
    """A million jobs made by generate_series (cached): what `signals` must read in < 5 s."""
    conn = await asyncpg.connect(uri)
    try:
        ready = await conn.fetchval("SELECT to_regclass('public.bench_marker') IS NOT NULL")
        if ready and await conn.fetchval("SELECT max(jobs) FROM bench_marker") == SIGNALS_JOBS:
            return
        started = time.perf_counter()
        await generator.install(conn, clients=1, jobs_per_client=40, seed=1, reset=True)
        async with conn.transaction():
            for statement in _SIGNALS_SQL.strip().split(";\n"):
                if "$1" in statement:
                    await conn.execute(statement, SIGNALS_JOBS)
                else:
                    await conn.execute(statement)
        print(f"  generated {SIGNALS_DB} in {time.perf_counter() - started:.1f} s (cached)")
    finally:
        await conn.close()


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def _fixtures(uri: str, name: str, clients: int, jobs: int, seed: int) -> tuple[str, int]:
    """Load the fixture database unless it already holds exactly these fixtures."""
    conn = await asyncpg.connect(uri)
    try:
        ready = await conn.fetchval("SELECT to_regclass('public.draft_jobs') IS NOT NULL")
        if not ready or await conn.fetchval("SELECT count(*) FROM draft_jobs") != clients * jobs:
            started = time.perf_counter()
            await generator.install(
                conn, clients=clients, jobs_per_client=jobs, seed=seed, reset=True
            )
            await conn.execute("ANALYZE")
            print(
                f"  generated {name} in "
                f"{time.perf_counter() - started:.1f} s (cached for later runs)"
            )
        client = await conn.fetchval("SELECT id::text FROM clients ORDER BY id LIMIT 1")
        messages = await conn.fetchval("SELECT count(*) FROM messages")
        return client, messages
    finally:
        await conn.close()


async def _selection_seconds(url: str, client: str) -> tuple[float, int, int]:
    database = DatabaseConfig(
        url=SecretStr(url),
        source=views(LoadedToml(TomlConfig(), None), None, None),
        connect_timeout_s=10,
    )
    selection = SelectionConfig(
        client_id=client, limit=SELECTED, status="succeeded", thread_limit=20, max_body_chars=50_000
    )
    async with db.connect(database) as conn:
        shapes = await case_selection.inspect(conn, database.source)
        started = time.perf_counter()
        plan = await case_selection.plan(conn, shapes, selection)
        cases = thread = 0
        async for chunk in case_selection.load(conn, shapes, selection, plan.case_ids):
            for item in chunk:
                cases += 1
                thread += len(getattr(getattr(item, "input", None), "thread", []))
        return time.perf_counter() - started, cases, thread


def _replay(args: list[str], env: dict[str, str]) -> tuple[int, float, float, int, str]:
    """Run `replay ARGS` as a child: exit code, wall s, CPU s, peak RSS KiB, stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(
        ["replay", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read().decode()
    err = child.stderr.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    child.stderr.close()
    wall = time.perf_counter() - started
    if child.returncode not in (0, 1):
        print(err, file=sys.stderr)
    elif child.returncode == 1 and not out.strip():
        # A gate's 1 names its artifact; a 1 without one is Python failing before the CLI ran.
        print(err, file=sys.stderr)
        raise SystemExit(f"bench: `replay {' '.join(args[:4])} …` exited 1 without an artifact")
    return child.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.strip()


def _case_span(artifact: dict[str, Any]) -> float:
    """Seconds from the first case's start to the last case's finish: the runner's own time."""
    starts = [datetime.fromisoformat(c["started_at"]) for c in artifact["cases"] if c["started_at"]]
    ends = [datetime.fromisoformat(c["finished_at"]) for c in artifact["cases"] if c["finished_at"]]
    return (max(ends) - min(starts)).total_seconds()


async def _bare_loop(base_url: str, requests: list[dict[str, Any]], concurrency: int) -> float:
    """The reference: the SDK alone, N requests, C at a time."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(body: dict[str, Any]) -> None:
        async with limiter:
            await client.chat.completions.create(**body)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for body in requests:
            group.start_soon(one, body)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def _requests(artifact: dict[str, Any]) -> list[dict[str, Any]]:
    """The requests a dry run planned, re-pointed at the local model."""
    bodies = []
    for case in artifact["cases"]:
        if case["plan"] is None:
            continue
        request = case["plan"]["request"]
        body = {
            **request.get("extra", {}),
            "messages": request["messages"],
            "model": "replay-original",
        }
        if request.get("temperature") is not None:
            body["temperature"] = request["temperature"]
        bodies.append(body)
    return bodies


def _model_server(latency_ms: int) -> tuple[subprocess.Popen[str], str]:
    return stub_model.spawn("--port", "0", "--api-key", KEY, "--latency-ms", str(latency_ms))


def main() -> int:
    """Print every measured number beside its target (`--only scale`: pacing and batch only)."""
    only = sys.argv[1:] == ["--only", "scale"]
    if sys.argv[1:] and not only:
        raise SystemExit("usage: scripts/bench [--only scale]")
    server = pg.start(PGDATA)
    try:
        if only:
            return _measure_scale(server)
        return _measure(server)
    finally:
        pg.stop(server)


def _measure_scale(server: pg.EmbeddedPostgres) -> int:
    name, count, jobs, seed = SELECTION_DB
    pg.create_database(server.uri, name)
    url = pg.database_uri(server.uri, name)
    client, _ = anyio.run(_fixtures, url, name, count, jobs, seed)
    work = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    env = {**os.environ, "DATABASE_URL": url, "OPENAI_API_KEY": KEY}
    _pacing(client, env, work)
    _batch_cost(client, env, work)
    print(f"\nartifacts of this bench: {work}")
    return 0


PACING_POINT = (64, 600, 600, 200_000, 200)
"""Concurrency, cases, the server's stated rpm and tpm, and its latency in ms."""


def _pacing(client: str, env: dict[str, str], work: Path) -> None:
    """Achieved request rate under stated limits, and the share answered 429, paced and not."""
    concurrency, cases, rpm, tpm, latency = PACING_POINT
    print(
        f"\npacing: local model server --rpm {rpm} --tpm {tpm:,}, L = {latency} ms, "
        f"C = {concurrency}, {cases} cases"
    )
    model, base_url = stub_model.spawn(
        "--port", "0", "--api-key", KEY, "--latency-ms", str(latency),
        "--rpm", str(rpm), "--tpm", str(tpm),
    )  # fmt: skip
    try:
        for label, extra in (("paced", ()), ("pacing off", ("--pacing", "off"))):
            args = ["--client-id", client, "--limit", str(cases), "--concurrency", str(concurrency)]
            args += ["--model", "replay-original", "--quiet", "--no-report", "--no-gate"]
            args += ["--retries", "20", "--case-timeout", "900", *extra]
            args += ["--artifacts-dir", str(work / "pacing" / label.replace(" ", "-"))]
            _, _, _, _, out = _replay(args, {**env, "OPENAI_BASE_URL": base_url})
            artifact = orjson.loads(Path(out).read_bytes())
            drafted = [case for case in artifact["cases"] if case["outcome"] is not None]
            attempts = [a for case in artifact["cases"] for a in case["attempts"]]
            limited = sum(1 for a in attempts if a.get("error_class") == "model_rate_limit")
            costs = [
                case["outcome"]["usage"]["prompt_tokens"]
                + (case["plan"]["request"].get("max_tokens") or 0)
                for case in drafted
            ]
            allowed = min(rpm, tpm / (sum(costs) / len(costs))) / 60
            span = _case_span(artifact)
            share = len(drafted) / span / allowed
            limited_share = limited / len(attempts)
            targets = (
                ""
                if extra
                else (
                    f" (targets >= 0.95: {_verdict(share >= 0.95)}; < 1%: "
                    f"{_verdict(limited_share < 0.01)})"
                )
            )
            print(
                f"  {label:10s} {len(drafted)} drafts in {span:6.1f} s: {len(drafted) / span:5.2f} "
                f"per s of {allowed:5.2f} allowed = {share:.3f}; "
                f"{limited} of {len(attempts)} requests answered 429 ({limited_share:.1%})"
                + targets
            )
    finally:
        stub_model.terminate(model)


def _batch_cost(client: str, env: dict[str, str], work: Path) -> None:
    """What the same run costs live and through the Batch API, at the same list prices."""
    cases = 200
    print(f"\nbatch: {cases} cases live and --via batch, list price $2.50 / $10.00 per 1M")
    config = work / "prices.toml"
    config.write_text('[prices."replay-original"]\ninput = 2.5\noutput = 10.0\n')
    model, base_url = stub_model.spawn("--port", "0", "--api-key", KEY, "--batch-delay-s", "1")
    paid = {}
    try:
        for label, extra in (("live", ()), ("batch", ("--via", "batch"))):
            args = ["--client-id", client, "--limit", str(cases), "--concurrency", "16"]
            args += ["--model", "replay-original", "--quiet", "--no-report", "--no-gate"]
            args += ["--config", str(config), *extra]
            args += ["--artifacts-dir", str(work / "batch" / label)]
            code, wall, _, _, out = _replay(args, {**env, "OPENAI_BASE_URL": base_url})
            summary = orjson.loads(Path(out).read_bytes())["summary"]
            paid[label] = summary["cost_usd"]
            print(f"  {label:5s} exit {code}: ${paid[label]:.4f} for {summary['cases']} cases, "
                  f"{wall:.1f} s")  # fmt: skip
        print(f"  batch / live cost = {paid['batch'] / paid['live']:.3f}")
    finally:
        stub_model.terminate(model)


def _measure(server: pg.EmbeddedPostgres) -> int:
    urls = {}
    clients = {}
    for name, count, jobs, seed in (SELECTION_DB, MEMORY_DB):
        pg.create_database(server.uri, name)
        urls[name] = pg.database_uri(server.uri, name)
        clients[name], messages = anyio.run(_fixtures, urls[name], name, count, jobs, seed)
        print(f"database {name}: {messages:,} messages")
    url, client = urls[SELECTION_DB[0]], clients[SELECTION_DB[0]]

    print("\nselection and dry run (performance targets)")
    best = min(anyio.run(_selection_seconds, url, client)[0] for _ in range(3))
    _, cases, thread = anyio.run(_selection_seconds, url, client)
    print(
        f"  selection of {cases:,} cases with {thread:,} thread messages: {best:.3f} s "
        f"(target < 1 s: {_verdict(best < 1)})"
    )
    work = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    env = {**os.environ, "DATABASE_URL": url, "OPENAI_API_KEY": KEY}
    code, wall, _, _, out = _replay(
        [
            "--client-id",
            client,
            "--limit",
            str(SELECTED),
            "--dry-run",
            "--quiet",
            "--artifacts-dir",
            str(work / "dry"),
        ],
        env,
    )
    if code != 0:
        return 1
    planned = orjson.loads(Path(out).read_bytes())
    print(
        f"  dry run of {SELECTED:,} cases, process start to artifact: {wall:.2f} s "
        f"(target < 3 s: {_verdict(wall < 3)})"
    )

    print("\nsignals over a million jobs (performance targets)")
    pg.create_database(server.uri, SIGNALS_DB)
    signals_url = pg.database_uri(server.uri, SIGNALS_DB)
    anyio.run(_signals_fixtures, signals_url)
    code, wall, _, _, _ = _replay(
        [
            "signals",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-22",
            "--format",
            "json",
            "--out",
            str(work / "signals.json"),
        ],
        {**env, "DATABASE_URL": signals_url},
    )
    jobs = orjson.loads((work / "signals.json").read_bytes())["current"]["cohorts"]
    counted = sum(cohort["total"]["jobs"] for cohort in jobs.values())
    print(
        f"  replay signals over {counted:,} jobs, process start to artifact: {wall:.2f} s "
        f"(target < 5 s: {_verdict(code == 0 and wall < 5)})"
    )

    print(f"\nlive runner vs a bare AsyncOpenAI loop, local model server at L = {LATENCY_MS} ms")
    model, base_url = _model_server(LATENCY_MS)
    env["OPENAI_BASE_URL"] = base_url
    requests = _requests(planned)
    try:
        print(
            "     C      N   ideal s   bare s  bare/ideal  harness s  harness/ideal  "
            "throughput ratio  harness CPU/case  bare CPU/case"
        )
        for concurrency, count in RUNNER_POINTS:
            bodies = (requests * (count // len(requests) + 1))[:count]
            cpu = time.process_time()
            bare = anyio.run(_bare_loop, base_url, bodies, concurrency)
            bare_cpu = (time.process_time() - cpu) / count
            code, _, harness_cpu, _, out = _replay(
                [
                    "--client-id",
                    client,
                    "--limit",
                    str(count),
                    "--concurrency",
                    str(concurrency),
                    "--model",
                    "replay-original",
                    "--quiet",
                    # The runner is measured: the report is written after the last case, and its
                    # pages left for the kernel to flush would slow the next point.
                    "--no-report",
                    "--artifacts-dir",
                    str(work / "live"),
                ],
                env,
            )
            artifact = orjson.loads(Path(out).read_bytes())
            span = _case_span(artifact)
            ideal = count * LATENCY_MS / 1000 / concurrency
            ratio = bare / span
            print(
                f"  {concurrency:4d} {count:6d} {ideal:9.2f} {bare:8.2f} {bare / ideal:11.2f} "
                f"{span:10.2f} {span / ideal:14.2f} {ratio:17.3f}  "
                f"{harness_cpu / count * 1000:14.2f} ms {bare_cpu * 1000:11.2f} ms "
                f"({_verdict(ratio >= 0.95)})"
            )
        _control_overhead(client, env, work)
    finally:
        stub_model.terminate(model)

    print("\nmemory: peak RSS of a live run, local model server at L = 0")
    model, base_url = _model_server(0)
    env["OPENAI_BASE_URL"] = base_url
    env["DATABASE_URL"] = urls[MEMORY_DB[0]]
    try:
        peaks = {}
        largest = ""
        for count in (1_000, 20_000):
            code, wall, _, peak, largest = _replay(
                [
                    "--client-id",
                    clients[MEMORY_DB[0]],
                    "--limit",
                    str(count),
                    "--concurrency",
                    "32",
                    "--model",
                    "replay-original",
                    "--status",
                    "any",
                    "--quiet",
                    # The run's own streaming is measured: a 20,000-case run gets no automatic
                    # HTML report (it would read the whole run), so neither size makes one.
                    "--no-report",
                    "--artifacts-dir",
                    str(work / "memory"),
                ],
                env,
            )
            peaks[count] = peak
            print(f"  {count:6,} cases: peak RSS {peak / 1024:.1f} MiB, {wall:.1f} s")
        ratio = peaks[20_000] / peaks[1_000]
        print(f"  20,000 / 1,000 = {ratio:.2f} (target <= 1.3: {_verdict(ratio <= 1.3)})")
    finally:
        stub_model.terminate(model)
    print("\nrescore: the 20,000-case run decided again from its artifact")
    rescored = work / "memory" / "rescored.json"
    code, wall, _, peak, _ = _replay(
        ["rescore", largest, "--no-gate", "--out", str(rescored), "--artifacts-dir", str(work)],
        env,
    )
    print(
        f"  replay rescore, process start to artifact: {wall:.2f} s, peak RSS "
        f"{peak / 1024:.1f} MiB (target < 10 s: {_verdict(code == 0 and wall < 10)})"
    )
    _soak(work, urls[MEMORY_DB[0]], clients[MEMORY_DB[0]], env)
    _pacing(client, {**env, "DATABASE_URL": url}, work)
    _batch_cost(client, {**env, "DATABASE_URL": url}, work)
    print(f"\nartifacts of this bench: {work}")
    return 0


CONTROL_POINT = (32, 1_000)
"""Concurrency and cases of the control arm's overhead: each case asks the model twice."""


def _control_overhead(client: str, env: dict[str, str], work: Path) -> None:
    """Requests per second of a run with a control arm against the same run without one."""
    concurrency, count = CONTROL_POINT
    print(f"\ncontrol arm: requests per second at C = {concurrency}, {count:,} cases, L = 100 ms")
    rates = {}
    for arm, extra in (("single arm", ()), ("with --control", ("--control",))):
        args = ["--client-id", client, "--limit", str(count), "--concurrency", str(concurrency)]
        args += ["--model", "replay-original", "--quiet", "--no-report", *extra]
        args += ["--control-model", "replay-original"] if extra else []
        args += ["--artifacts-dir", str(work / "control" / arm.replace(" ", "-"))]
        _, _, _, _, out = _replay(args, env)
        artifact = orjson.loads(Path(out).read_bytes())
        requests = count * (2 if extra else 1)
        rates[arm] = requests / _case_span(artifact)
        print(f"  {arm:15s} {requests:6,} requests: {rates[arm]:7.1f} per s")
    ratio = rates["with --control"] / rates["single arm"]
    print(f"  per-request throughput ratio {ratio:.3f} (target >= 0.95: {_verdict(ratio >= 0.95)})")


SOAK_CASES = 5_000


def _soak(work: Path, url: str, client: str, env: dict[str, str]) -> None:
    """5,000 cases at C = 64 through 429s, 500s and hangs, killed twice with SIGKILL, resumed.

    Every selected case must end in the artifact exactly once, with cost and tokens equal to
    the sum of what the parts recorded; peak RSS is the largest of the three processes.
    """
    print("\nsoak: 5,000 cases, C = 64, 20% 429 / 10% 500 / 2% hangs, two kill -9 and resumes")
    folder = work / "soak"
    folder.mkdir()
    config = folder / "replay.toml"
    config.write_text('[prices."replay-original"]\ninput = 0.15\noutput = 0.6\n')
    model, base_url = stub_model.spawn(
        *("--port", "0", "--api-key", KEY, "--latency-ms", "20", "--retry-after-s", "0.05"),
        *("--rate-429", "0.2", "--rate-500", "0.1", "--rate-hang", "0.02", "--seed", "5"),
    )
    env = {**env, "OPENAI_BASE_URL": base_url}
    args = [
        *("--client-id", client, "--database-url", url, "--limit", str(SOAK_CASES)),
        *("--concurrency", "64", "--model", "replay-original", "--status", "any", "--quiet"),
        *("--no-report", "--no-gate", "--request-timeout", "2", "--retries", "6"),
        *("--config", str(config), "--artifacts-dir", str(folder)),
    ]
    peaks: list[int] = []
    started = time.perf_counter()
    try:
        partial: Path | None = None
        for share in (1 / 3, 2 / 3):
            command = ["replay", *args, *(["--resume", str(partial)] if partial else [])]
            child = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            partial = _await_partial(folder, int(SOAK_CASES * share), child)
            os.kill(child.pid, signal.SIGKILL)
            _, _, usage = os.wait4(child.pid, 0)
            child.returncode = -signal.SIGKILL
            peaks.append(usage.ru_maxrss)
        assert partial is not None
        code, _, _, peak, _ = _replay([*args, "--resume", str(partial)], env)
        peaks.append(peak)
    finally:
        stub_model.terminate(model)
    wall = time.perf_counter() - started
    artifact = orjson.loads(
        partial.with_name(partial.name.replace(".partial.jsonl", ".json")).read_bytes()
    )
    cases = artifact["cases"]
    ids = [case["case_id"] for case in cases]
    once = len(ids) == len(set(ids)) == len(artifact["selection"]["case_ids"])
    cost = sum(case["cost_usd"] or 0 for case in cases)
    tokens = sum(
        (case["outcome"] or {}).get("usage", {}).get("completion_tokens", 0)
        for case in cases
        if case["outcome"] and case["outcome"].get("usage")
    )
    summary = artifact["summary"]
    parts = [part["cases"] for part in artifact["parts"]]
    print(f"  exit {code} after {wall:.0f} s; parts {parts} (sum {sum(parts):,})")
    print(
        f"  every selected case exactly once: {len(set(ids)):,} of "
        f"{len(artifact['selection']['case_ids']):,} ({_verdict(once and sum(parts) == len(ids))})"
    )
    equal = abs(summary["cost_usd"] - cost) < 1e-6 and summary["completion_tokens"] == tokens
    print(
        f"  cost ${summary['cost_usd']:.4f} = sum of cases ${cost:.4f}; completion tokens "
        f"{summary['completion_tokens']:,} = sum of cases {tokens:,} ({_verdict(equal)})"
    )
    errors = summary["by_error_class"]
    print(f"  errors after retries: {errors or 'none'}; peak RSS {max(peaks) / 1024:.1f} MiB")


def _await_partial(folder: Path, lines: int, child: subprocess.Popen[bytes]) -> Path:
    """The soak's partial log, once it holds `lines` results."""
    while child.poll() is None:
        for path in folder.glob("run-*.partial.jsonl"):
            with path.open("rb") as handle:
                if sum(1 for _ in handle) - 1 >= lines:
                    return path
        time.sleep(0.2)
    raise RuntimeError(f"the soak run ended (exit {child.returncode}) before {lines} results")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
