"""`scripts/demo`: an embedded Postgres, a local model server, and the commands a user types.

It loads fixtures (three English clients, then a Spanish, a German and a French one), then runs
clients, preflight, a dry run and live replays.

Each step prints the exact command it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import orjson

from replay.devtools import pg, stub_model

ROOT = Path(".artifacts")
PGDATA = ROOT / "demo-pg"
DEMO_KEY = "demo-key-not-secret"


def _step(title: str, *args: str) -> subprocess.CompletedProcess[str]:
    print(f"\n== {title}\n$ replay {shlex.join(args)}", flush=True)
    done = subprocess.run(["replay", *args], capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    print(f"(exit {done.returncode})", flush=True)
    return done


def _model_server() -> tuple[subprocess.Popen[str], str]:
    """The local model server in its own process; returns it and its base URL."""
    args = ("--port", "0", "--api-key", DEMO_KEY, "--latency-ms", "40")
    print(
        f"\n== start the local model server\n$ replay stub-model {shlex.join(args)} &", flush=True
    )
    process, base_url = stub_model.spawn(*args)
    print(f"listening on {base_url}", flush=True)
    return process, base_url


def _artifact(done: subprocess.CompletedProcess[str]) -> Path | None:
    found = re.search(r"^artifact: (\S+)$", done.stdout, re.MULTILINE)
    return Path(found.group(1)) if found else None


def _rationale(artifact: Path) -> None:
    """Show what the judge said about one regressed case, as a reader of the artifact would."""
    cases = orjson.loads(artifact.read_bytes()).get("cases", [])
    judged = [
        c for c in cases if c["verdict"] == "regressed" and (c.get("judge") or {}).get("rationale")
    ]
    if not judged:
        return
    # A case the judge also caught says more than one it called a tie.
    case = next((c for c in judged if c["judge"]["verdict"] == "original"), judged[0])
    judge = case["judge"]
    print(f"\n== the judge on one regressed case ({case['case_id']})")
    rubric = f"rubric v{judge['rubric_version']}"
    print(f"judge {judge['model']} ({rubric}): prefers the {judge['verdict']}")
    print(f"criteria: {', '.join(f'{k} → {v}' for k, v in judge['criteria'].items())}")
    print(f"rationale: {judge['rationale']}")


def main() -> int:
    """Start the database and the model server, load fixtures, dry-run and replay a client."""
    server = pg.start(PGDATA.resolve())
    model: subprocess.Popen[str] | None = None
    try:
        pg.create_database(server.uri, "replay_demo")
        url = pg.database_uri(server.uri, "replay_demo")
        loaded = _step(
            "load seeded fixtures (the only command that writes)",
            "fixtures",
            "--database-url",
            url,
            "--reset",
            "--clients",
            "6",
            "--languages",
            "en,en,en,es,de,fr",
        )
        if loaded.returncode != 0:
            return loaded.returncode
        clients = re.findall(r"^client (\S+)", loaded.stdout, re.MULTILINE)
        if len(clients) < 4:
            print("demo: the fixtures printed too few client ids", file=sys.stderr)
            return 1
        client_id, spanish = clients[0], clients[3]
        os.environ["DATABASE_URL"] = url
        config = ROOT / "demo-replay.toml"
        # The local models cost nothing; priced like a small hosted model, the demo shows spend.
        models = ("replay-original", "replay-variant", "replay-judge")
        config.write_text("".join(f'[prices."{m}"]\ninput = 0.15\noutput = 0.60\n' for m in models))
        os.environ["REPLAY_CONFIG"] = str(config)
        print(f"$ export REPLAY_CONFIG={config}   # prices for the local model")
        print(f"\n$ export DATABASE_URL={url.replace(str(PGDATA.resolve()), str(PGDATA))}")
        _step("find a client id", "clients")
        _step("preflight", "preflight", "--client-id", client_id)
        dry = _step(
            "dry run: selection, point-in-time context, rendering, cost estimate",
            "--client-id",
            client_id,
            "--limit",
            "20",
            "--dry-run",
        )
        if dry.returncode != 0:
            return dry.returncode
        model, base_url = _model_server()
        os.environ["OPENAI_BASE_URL"] = base_url
        os.environ["OPENAI_API_KEY"] = DEMO_KEY
        print(f"$ export OPENAI_BASE_URL={base_url} OPENAI_API_KEY={DEMO_KEY}")
        common = ("--client-id", client_id, "--limit", "20", "--concurrency", "3")
        before = _step(
            "baseline: the recorded requests through a model that drafts as production did",
            *common,
            "--model",
            "replay-original",
        )
        after = _step(
            "the change: a model that words drafts differently and slips now and then "
            "(exit 1 when the gate catches a regression)",
            *common,
            "--model",
            "replay-variant",
            "--judge-model",
            "replay-judge",
            "--baseline",
            "latest",
        )
        paths = [_artifact(before), _artifact(after)]
        if paths[0] is None or paths[1] is None:
            return 1
        _rationale(paths[1])
        compared = _step("compare the two runs case by case", "compare", *map(str, paths))
        _step("the trend of this client's runs", "history", "--client-id", client_id)
        attributed = _step(
            "attribute the change: a control arm replays production's set-up beside the "
            "candidate; the provider drifted (the control rewords as the candidate does), so "
            "only the candidate's own slips fail the gate",
            *common,
            "--model",
            "replay-variant",
            "--temperature",
            "0.3",
            "--control",
            "--control-model",
            "replay-variant",
        )
        rescored = _step(
            "decide that run again with today's checks and gate: no model call",
            "rescore",
            str(_artifact(attributed)),
        )
        other = _step(
            "a Spanish client: the same checks read Spanish, German and French (a slot outside "
            "the client's hours, a question left unanswered, a stranger greeted)",
            "--client-id",
            spanish,
            "--limit",
            "40",
            "--concurrency",
            "3",
            "--model",
            "replay-variant",
        )
        codes = (before, after, compared, attributed, rescored, other)
        expected = tuple(done.returncode for done in codes) == (0, 1, 1, 1, 1, 1)
        print(
            "\ndemo: the baseline passed and the gate caught the variant's regressions"
            if expected
            else "\ndemo: unexpected exit codes; see above"
        )
        report = paths[1].with_suffix(".html")
        if report.is_file():
            print(f"demo: the HTML report of the change, to open in a browser: {report}")
        return 0 if expected else 1
    finally:
        if model is not None:
            stub_model.terminate(model)
        pg.stop(server)


if __name__ == "__main__":
    sys.exit(main())
