"""Model prices: `genai-prices` bundled data, replay.toml `[prices]` over it, unknown is None.

No price number is written here: each expected price is read from the package itself, so a data
update of `genai-prices` changes the numbers, never the outcome of these tests.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from genai_prices import Usage, calc_price

from replay.config.models import Price
from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.run.pricing import cost, price_of
from tests.helpers import run_cli

MTOK = 1_000_000


def package_price(model: str, provider_id: str | None = None) -> Price:
    """What `genai-prices` itself charges for a million input and a million output tokens."""
    found = calc_price(Usage(input_tokens=MTOK, output_tokens=MTOK), model, provider_id=provider_id)
    return Price(input=float(found.input_price), output=float(found.output_price))


def test_a_model_missing_from_the_old_table_is_priced_by_the_package() -> None:
    """gpt-5.1 has a price now: tokens times the package's price per 1M tokens."""
    price = package_price("gpt-5.1")
    assert price_of("gpt-5.1", {}) == price
    expected = (12_345 * price.input + 678 * price.output) / MTOK
    assert cost("gpt-5.1", 12_345, 678, {}) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sent", "model", "provider"),
    [
        pytest.param("gpt-4o-2024-08-06", "gpt-4o", None, id="dated"),
        pytest.param("gpt-5.1-2025-11-13", "gpt-5.1", None, id="dated-new"),
        pytest.param("openai/gpt-4o-mini", "gpt-4o-mini", None, id="provider-prefix"),
        pytest.param(
            "anthropic/claude-3-5-sonnet", "claude-3-5-sonnet", "anthropic", id="other-provider"
        ),
    ],
)
def test_a_name_as_sent_is_priced_as_its_model(sent: str, model: str, provider: str | None) -> None:
    """A dated snapshot or a `provider/` prefix takes the price of the model it names."""
    assert price_of(sent, {}) == package_price(model, provider)


def test_an_older_snapshot_keeps_its_own_price() -> None:
    """A snapshot the package prices apart is not priced as its family."""
    assert price_of("gpt-4o-2024-05-13", {}) == package_price("gpt-4o-2024-05-13")


def test_prices_in_replay_toml_win_over_the_package() -> None:
    """`[prices."MODEL"]` overrides the package, for the model's dated and prefixed names too."""
    own = Price(input=0.5, output=0.25)
    prices = {"gpt-4o": own}
    assert price_of("gpt-4o", prices) == own
    assert price_of("gpt-4o-2024-08-06", prices) == own
    assert price_of("openai/gpt-4o", prices) == own
    assert price_of("gpt-4o-mini", prices) == package_price("gpt-4o-mini")


def test_a_local_model_takes_its_own_entry_or_its_family_entry() -> None:
    """Models the package does not know are priced by replay.toml alone."""
    own = Price(input=1.0, output=2.0)
    assert price_of("replay-original", {"replay-original": own}) == own
    assert price_of("replay-original-2", {"replay-original": own}) == own
    assert price_of("team/replay-original", {"replay-original": own}) == own


@pytest.mark.parametrize("model", ["replay-variant", "o9-preview", "whisper-1", "", None])
def test_an_unknown_price_is_none_not_zero(model: str | None) -> None:
    """No entry and nothing in the package (or no token price there): None, never 0."""
    assert price_of(model, {}) is None
    assert cost(model, 1_000, 100, {}) is None


def test_prices_are_read_without_the_network(tmp_path: Path) -> None:
    """Pricing opens no socket: the bundled data is read, never the package's auto-update."""
    script = textwrap.dedent(
        """
        import sys

        def no_network(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "socket.bind"):
                raise RuntimeError(f"network used: {event} {args!r}")

        sys.addaudithook(no_network)
        from replay.run.pricing import price_of
        found = [price_of(m, {}) for m in ("gpt-5.1", "gpt-4o-2024-08-06", "openai/gpt-4o")]
        print(all(found))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr


def test_dry_run_estimates_a_new_model_and_says_unknown_for_an_unpriced_one(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--model gpt-5.1 gets an estimated cost; a model without a price says it is unknown."""
    base = ("--client-id", fixtures.clients[0].id, "--dry-run", "--database-url", fixture_db)
    priced = run_cli(capsys, *base, "--limit", "5", "--model", "gpt-5.1", "--out", "priced.json")
    assert priced.code == 0, priced.err
    summary = orjson.loads((workdir / "priced.json").read_bytes())["summary"]
    price = package_price("gpt-5.1")
    tokens = summary["estimated_input_tokens"], summary["estimated_output_tokens"]
    expected = (tokens[0] * price.input + tokens[1] * price.output) / MTOK
    assert summary["estimated_cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert f"estimated cost ${expected:.4f}" in priced.out

    unknown = run_cli(capsys, *base, "--limit", "5", "--model", "mystery-model", "--out", "u.json")
    assert unknown.code == 0, unknown.err
    assert orjson.loads((workdir / "u.json").read_bytes())["summary"]["estimated_cost_usd"] is None
    assert "estimated cost unknown (no price for mystery-model)" in unknown.out


def test_a_budget_takes_a_model_only_the_package_prices(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """`--max-cost` with gpt-5.1 and no [prices] passes the budget's check (exit 2 comes first).

    The local model server does not serve gpt-5.1, so preflight blocks the run after it (exit 3);
    its artifact still names where the prices came from.
    """
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--limit",
        "3",
        "--model",
        "gpt-5.1",
        "--max-cost",
        "1",
    )
    assert (result.code, result.err) == (
        3,
        f"replay: model endpoint {stub.base_url} does not list model 'gpt-5.1'\n",
    )
    artifact = orjson.loads(next(Path(".artifacts/ai-replay").glob("run-*.json")).read_bytes())
    assert artifact["config"]["prices"] == {}
    assert artifact["config"]["price_data"].startswith("genai-prices 0.2.")


def test_a_budget_refuses_a_model_nobody_prices(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No price anywhere: a live run with `--max-cost` exits 2 before anything is sent."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--model",
        "in-house-drafter",
        "--max-cost",
        "1",
    )
    assert result.code == 2
    assert result.err.startswith(
        "replay: --max-cost needs a price for model 'in-house-drafter'; add "
        '[prices."in-house-drafter"] input = …, output = …'
    )


def test_a_family_override_covers_the_snapshots_the_package_prices_apart() -> None:
    """`[prices."gpt-4o"]` is what the team pays for gpt-4o, its dated snapshots included."""
    own = Price(input=1.0, output=2.0)
    assert package_price("gpt-4o-2024-05-13") != own
    assert price_of("gpt-4o-2024-05-13", {"gpt-4o": own}) == own
    assert price_of("openai/gpt-4o-2024-05-13", {"gpt-4o": own}) == own
