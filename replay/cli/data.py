"""Commands to prepare and check before a run: clients, preflight, fixtures, stub-model, schema."""

from __future__ import annotations

from typing import Annotated

import anyio
import orjson
import typer

from replay.cli.flags import (
    ArtifactsDir,
    ClientFilter,
    ConfigFile,
    DatabaseUrl,
    SourceSql,
    ThreadSql,
)
from replay.config import resolve, rules
from replay.config.file import load_toml
from replay.errors import LOCAL_EXTRA, ExitCode, UsageError, missing_extra
from replay.models import RunArtifact
from replay.ops import prepare
from replay.report import text


def clients_command(
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
) -> int:
    """List client ids and names with their job counts, to find a --client-id."""
    toml = load_toml(config)
    rows = anyio.run(prepare.clients, resolve.database(toml, database_url, source_sql, thread_sql))
    print(text.clients_text(rows))
    return ExitCode.OK


def preflight_command(
    client_id: ClientFilter = None,
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Check the database, the views, the client and the artifact directory; run nothing."""
    toml = load_toml(config)
    database = resolve.database(toml, database_url, source_sql, thread_sql)
    folder = resolve.artifacts_dir(toml, artifacts_dir)
    outcome = anyio.run(prepare.check, database, folder, client_id)
    print(text.preflight_text(outcome.preflight))
    return outcome.exit_code


def fixtures_command(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            parser=rules.database_url,
            metavar="URL",
            help="Database to fill (required; never read from DATABASE_URL).",
        ),
    ] = None,
    clients: Annotated[
        int,
        typer.Option("--clients", parser=rules.count, metavar="N", help="Number of clients."),
    ] = 3,
    jobs_per_client: Annotated[
        int,
        typer.Option(
            "--jobs-per-client", parser=rules.count, metavar="N", help="Draft jobs per client."
        ),
    ] = 400,
    seed: Annotated[
        int, typer.Option("--seed", parser=rules.integer, metavar="N", help="Same seed, same data.")
    ] = 7,
    languages: Annotated[
        str,
        typer.Option(
            "--languages",
            parser=rules.language_codes,
            metavar="CODES",
            help="Languages the clients speak, in turn: en, es, de, fr (en,es: every other "
            "client Spanish).",
        ),
    ] = "en",
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop every table of the database first.")
    ] = False,
) -> int:
    """Fill an empty database with the reference schema and seeded fixtures (the only writer)."""
    if not database_url:
        raise UsageError("fixtures needs --database-url (it writes, so it never uses DATABASE_URL)")
    summary = anyio.run(
        lambda: prepare.install_fixtures(
            database_url,
            clients=clients,
            jobs_per_client=jobs_per_client,
            seed=seed,
            languages=tuple(languages.split(",")),
            reset=reset,
        )
    )
    print(text.fixtures_text(summary))
    return ExitCode.OK


def stub_model_command(ctx: typer.Context) -> int:
    """Run the local OpenAI-compatible model server for demos and tests (--help for flags)."""
    try:
        from replay.devtools import stub_model  # only this command needs the server
    except ModuleNotFoundError as exc:
        if exc.name not in LOCAL_EXTRA:
            raise  # a module of our own: a bug, not an install choice
        raise missing_extra("replay stub-model", exc) from None
    return stub_model.main(list(ctx.args))


def schema_command() -> int:
    """Print the JSON Schema of run artifacts."""
    schema = RunArtifact.model_json_schema()
    print(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    return ExitCode.OK
