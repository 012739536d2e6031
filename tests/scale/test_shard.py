"""Shard assignment, --shard parsing, the engines' environment variables, and the CLI's errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from bots.scaleout.shard import Shard, parse_shard, resolve_shard, shard_of
from personas.errors import HogfleetError
from tests.scale.conftest import HOGFLEET


def test_every_persona_is_in_exactly_one_shard_and_the_split_is_even() -> None:
    ids = [f"p{i:05d}" for i in range(3000)]
    for total in (1, 2, 3, 7):
        owners = [[k for k in range(1, total + 1) if Shard(k, total).owns(i)] for i in ids]
        assert all(len(o) == 1 for o in owners)
        sizes = Counter(o[0] for o in owners)
        assert min(sizes.values()) > 0.8 * len(ids) / total


def test_assignment_is_sha256_of_the_distinct_id_not_pythons_salted_hash() -> None:
    did = "01J9ZK3Q5V8X-abc"
    expected = int.from_bytes(hashlib.sha256(did.encode()).digest()[:8], "big") % 5 + 1
    assert shard_of(did, 5) == expected
    # A different interpreter (different PYTHONHASHSEED) agrees.
    code = f"from bots.scaleout.shard import shard_of; print(shard_of({did!r}, 5))"
    out = subprocess.run(
        [str(Path(HOGFLEET).parent / "python"), "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
        check=True,
    )
    assert int(out.stdout) == expected


@pytest.mark.parametrize("text", ["3/2", "0/3", "a/b", "1", "1/0", "-1/2", "2/3/4", ""])
def test_bad_shard_specs_are_refused(text: str) -> None:
    with pytest.raises(HogfleetError, match="K/N"):
        parse_shard(text)


def test_shard_from_flag_and_from_the_engines() -> None:
    assert resolve_shard("2/3", {}) == Shard(2, 3)
    assert resolve_shard(None, {}) is None
    # Kubernetes Indexed Job: 0-based index.
    assert resolve_shard(None, {"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "4"}) == Shard(1, 4)
    # GitHub matrix (or anything else) and its precedence over the Job variables.
    env = {"HOGFLEET_SHARD_INDEX": "2", "HOGFLEET_SHARD_TOTAL": "3", "JOB_COMPLETION_INDEX": "0"}
    assert resolve_shard(None, env) == Shard(3, 3)
    # The flag wins over the environment.
    assert resolve_shard("1/2", env) == Shard(1, 2)
    # One shard of one is the plain run.
    assert resolve_shard(None, {"HOGFLEET_SHARD_INDEX": "0", "HOGFLEET_SHARD_TOTAL": "1"}) is None
    for bad in (
        {"JOB_COMPLETION_INDEX": "1"},
        {"JOB_COMPLETION_INDEX": "4", "JOB_COMPLETIONS": "4"},
        {"HOGFLEET_SHARD_INDEX": "x", "HOGFLEET_SHARD_TOTAL": "2"},
    ):
        with pytest.raises(HogfleetError):
            resolve_shard(None, bad)


# Refusals come before any request, so a closed port is enough of a shared target here.
NOWHERE = "http://127.0.0.1:9"


def _hogfleet(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOGFLEET, *args, "--state-dir", str(tmp / "state")],
        capture_output=True,
        text=True,
        cwd=tmp,
        env={**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp / "ss"), **(env or {})},
        timeout=120,
    )


def test_cli_shard_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = _hogfleet(tmp_path, "run", "--shard", "3/2")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("error: --shard must be K/N")
    env_bad = _hogfleet(tmp_path, "run", env={"JOB_COMPLETION_INDEX": "5", "JOB_COMPLETIONS": "2"})
    assert env_bad.returncode == 2 and "JOB_COMPLETION_INDEX=5" in env_bad.stderr
    # A shard never plans: without `hogfleet plan` first it says so and touches nothing.
    unplanned = _hogfleet(tmp_path, "run", "--shard", "1/2", "--date", "2026-05-01", "--target", NOWHERE)
    assert unplanned.returncode == 2 and unplanned.stderr.count("\n") == 1, unplanned.stderr
    assert "hogfleet plan --date 2026-05-01" in unplanned.stderr
    assert not (tmp_path / "state" / "personas.json").exists()


def test_persona_of_another_shard_says_which_shard_owns_it(tmp_path: Path) -> None:
    assert _hogfleet(tmp_path, "plan", "--date", "2026-05-01").returncode == 0
    plan = json.loads((tmp_path / "state" / "plans" / "2026-05-01.json").read_text())
    someone = plan["sessions"][0]["identity"]["distinct_id"]
    owner = shard_of(someone, 2)
    other = 3 - owner
    wrong = _hogfleet(
        tmp_path,
        "run",
        "--date",
        "2026-05-01",
        "--shard",
        f"{other}/2",
        "--persona",
        someone,
        "--target",
        NOWHERE,
    )
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert f"belongs to shard {owner}/2, not {other}/2" in wrong.stderr
    assert not list((tmp_path / "state").glob("runs/*/ledger*.jsonl")), "refused, yet a ledger was written"


def test_shards_refuse_the_embedded_demo(tmp_path: Path) -> None:
    assert _hogfleet(tmp_path, "plan", "--date", "2026-05-01").returncode == 0
    before = sorted(p.name for p in (tmp_path / "state").rglob("*"))
    done = _hogfleet(tmp_path, "run", "--date", "2026-05-01", "--shard", "1/2")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "needs one target shared by every shard" in done.stderr
    assert sorted(p.name for p in (tmp_path / "state").rglob("*")) == before
    # One shard of one is an unsharded run: the embedded demo is fine there (it gets as far as
    # the persona check, which fails before any demo starts).
    alone = _hogfleet(tmp_path, "run", "--date", "2026-05-01", "--shard", "1/1", "--persona", "nope")
    assert alone.returncode == 2 and "unknown persona" in alone.stderr, alone.stderr
