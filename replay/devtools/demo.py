"""`scripts/demo`: an embedded Postgres with fixtures, then the commands a user would type.

Each step prints the exact command it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from replay.devtools import pg

ROOT = Path(".artifacts")
PGDATA = ROOT / "demo-pg"


def _step(title: str, *args: str, show: bool = True) -> subprocess.CompletedProcess[str]:
    print(f"\n== {title}\n$ replay {shlex.join(args)}", flush=True)
    done = subprocess.run(["replay", *args], capture_output=True, text=True, check=False)
    if show:
        sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    print(f"(exit {done.returncode})", flush=True)
    return done


def main() -> int:
    """Start the database, load fixtures, list clients, dry-run the first client."""
    server = pg.start(PGDATA.resolve())
    url = pg.database_uri(server.uri, "replay_demo")
    try:
        pg.create_database(server.uri, "replay_demo")
        shown = url.replace(str(PGDATA.resolve()), str(PGDATA))
        loaded = _step(
            "load seeded fixtures (the only command that writes)",
            "fixtures",
            "--database-url",
            url,
            "--reset",
        )
        if loaded.returncode != 0:
            return loaded.returncode
        client = re.search(r"^client (\S+)", loaded.stdout, re.MULTILINE)
        if client is None:
            print("demo: the fixtures printed no client id", file=sys.stderr)
            return 1
        os.environ["DATABASE_URL"] = url
        print(f"\nDATABASE_URL={shown}")
        _step("find a client id", "clients")
        _step("preflight", "preflight", "--client-id", client.group(1))
        dry = _step(
            "dry run: selection, point-in-time context, rendering, cost estimate",
            "--client-id",
            client.group(1),
            "--limit",
            "20",
            "--dry-run",
        )
        return dry.returncode
    finally:
        pg.stop(server)


if __name__ == "__main__":
    sys.exit(main())
