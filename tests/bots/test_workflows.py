"""The GitHub workflows: they parse, run at 07:15 UTC, keep personas across nights, and call real commands.

Every ``hogfleet <cmd> --flag`` in a ``run:`` script is checked against the typer app itself, so renaming
a command or a flag breaks this test rather than the next night's job. The ``--fail-over`` gate the
nightly job relies on is exercised for real: a fleet run against the demo with a broken site profile.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PUNCT = "();<>|&\n"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _is_separator(token: str) -> bool:
    return all(c in PUNCT or c.isspace() for c in token)


def hogfleet_calls(script: str) -> list[tuple[str, list[str]]]:
    """(subcommand, arguments) of every ``hogfleet`` command in a shell script.

    Arguments include the flags of bash arrays expanded into the command (``"${opts[@]}"``), which is
    how the workflow passes optional flags.
    """
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=PUNCT)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    tokens = list(lexer)
    arrays: dict[str, list[str]] = {}
    for i, token in enumerate(tokens[:-1]):
        if token.endswith("=") and tokens[i + 1].startswith("("):
            name = token.rstrip("+=")
            j = i + 2
            while j < len(tokens) and not _is_separator(tokens[j]):
                arrays.setdefault(name, []).append(tokens[j])
                j += 1
    calls: list[tuple[str, list[str]]] = []
    for i, token in enumerate(tokens):
        if token != "hogfleet":
            continue
        args: list[str] = []
        for arg in tokens[i + 1 :]:
            if _is_separator(arg):
                break
            expanded = re.fullmatch(r"\$\{(\w+)\[@\]\}", arg)
            args.extend(arrays.get(expanded.group(1), []) if expanded else [arg])
        assert args, f"bare `hogfleet` in {script!r}"
        calls.append((args[0], args[1:]))
    return calls


def check_call(group: Any, sub: str, args: list[str]) -> None:
    command = group.commands.get(sub)
    assert command is not None, f"`hogfleet {sub}` does not exist"
    options: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name == "option":
            for opt in [*param.opts, *param.secondary_opts]:
                options[opt] = param
    for k, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        flag = arg.split("=", 1)[0]
        assert flag in options, f"`hogfleet {sub}` has no option {flag}"
        option = options[flag]
        if not option.is_flag and "=" not in arg:
            value = args[k + 1] if k + 1 < len(args) else None
            assert value is not None and not value.startswith("--"), f"`hogfleet {sub} {flag}` needs a value"


@pytest.fixture(scope="module")
def cli(cli_group: Any) -> Any:
    assert isinstance(getattr(cli_group, "commands", None), dict)
    return cli_group


def test_nightly_parses_and_runs_at_0715_utc() -> None:
    nightly = load("nightly.yml")
    triggers = nightly["on"]
    assert [s["cron"] for s in triggers["schedule"]] == ["15 7 * * *"]
    assert "workflow_dispatch" in triggers
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert {"date", "max_sessions"} <= set(inputs)
    assert all(not spec.get("required", False) for spec in inputs.values())


def test_every_hogfleet_command_in_the_workflows_exists(cli: Any) -> None:
    seen: list[str] = []
    for name in ("nightly.yml", "test.yml"):
        for step in steps(load(name)):
            for sub, args in hogfleet_calls(step.get("run", "")):
                check_call(cli, sub, args)
                seen.append(" ".join([sub, *args]))
    subs = [call.split()[0] for call in seen]
    assert {"run", "failures", "report", "cleanup"} <= set(subs), seen
    run = next(call for call in seen if call.startswith("run "))
    # The gate and the machine-readable summary the job summary is built from.
    assert "--fail-over 0.1" in run and "--json" in run and "--max-sessions" in run


def test_the_checker_catches_a_renamed_flag(cli: Any) -> None:
    script = 'opts+=(--max-sesions 3)\nhogfleet run --json "${opts[@]}" > s.json'
    ((sub, args),) = hogfleet_calls(script)
    with pytest.raises(AssertionError, match="no option --max-sesions"):
        check_call(cli, sub, args)
    with pytest.raises(AssertionError, match="does not exist"):
        check_call(cli, *hogfleet_calls("hogfleet reprt --out x.html")[0])
    with pytest.raises(AssertionError, match="needs a value"):
        check_call(cli, *hogfleet_calls("hogfleet run --fail-over --json")[0])


def test_nightly_installs_browsers_and_keeps_personas() -> None:
    nightly = load("nightly.yml")
    all_steps = steps(nightly)
    runs = "\n".join(s.get("run", "") for s in all_steps)
    assert "playwright install --with-deps chromium" in runs
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in all_steps)

    restore = [s for s in all_steps if str(s.get("uses", "")).startswith("actions/cache/restore@")]
    save = [s for s in all_steps if str(s.get("uses", "")).startswith("actions/cache/save@")]
    assert len(restore) == 1 and len(save) == 1
    for step in (*restore, *save):
        paths = step["with"]["path"].split()
        assert ".hogfleet" in paths and "storage_states" in paths
    # A unique key per run, found again through the prefix: the newest state always wins.
    key = restore[0]["with"]["key"]
    assert "github.run_id" in key and save[0]["with"]["key"] == key
    assert key.startswith(restore[0]["with"]["restore-keys"].strip())
    assert save[0]["if"] == "always()"
    # Restored before the fleet runs, saved after it.
    names = [s.get("uses", s.get("run", "")) for s in all_steps]
    fleet = next(i for i, s in enumerate(all_steps) if "hogfleet run" in s.get("run", ""))
    assert names.index(restore[0]["uses"]) < fleet < names.index(save[0]["uses"])

    env = nightly["jobs"]["fleet"]["env"]
    assert env["HOGFLEET_STATE_DIR"] == ".hogfleet" and env["HOGFLEET_STORAGE_DIR"] == "storage_states"
    assert env["HOGFLEET_TARGET"] == "${{ vars.HOGFLEET_TARGET }}"
    assert env["HOGFLEET_PERSONA_SECRET"] == "${{ secrets.HOGFLEET_PERSONA_SECRET }}"
    assert "GITHUB_STEP_SUMMARY" in runs


def test_nightly_uploads_traces_and_report() -> None:
    uploads = [
        s for s in steps(load("nightly.yml")) if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert uploads and all(u["if"] == "always()" for u in uploads)
    paths = " ".join(u["with"]["path"] for u in uploads).split()
    assert ".hogfleet/artifacts/" in paths and ".hogfleet/report.html" in paths
    report = next(s for s in steps(load("nightly.yml")) if "hogfleet report" in s.get("run", ""))
    assert "--out .hogfleet/report.html" in report["run"]


def test_test_workflow_runs_make_test_on_push() -> None:
    workflow = load("test.yml")
    assert "push" in workflow["on"] and "pull_request" in workflow["on"]
    runs = [s.get("run", "") for s in steps(workflow)]
    assert any(r.strip() == "make test" for r in runs)


# -- the gate, for real ---------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.slow
def test_fail_over_exits_nonzero_when_failures_pass_the_threshold(tmp_path: Path) -> None:
    """Two real sessions against the demo with the site profile's key selectors broken: both fail."""
    profile = (ROOT / "flows" / "profiles" / "demo.toml").read_text(encoding="utf-8")
    broken = profile
    for key in ("logged_in_marker", "row_popular", "search_input", "category_name", "play_button"):
        broken, n = re.subn(rf"(?m)^{key} = .*$", f'{key} = "[data-testid=nope-{key}]"', broken)
        assert n == 1, key
    site = tmp_path / "broken.toml"
    site.write_text(broken, encoding="utf-8")
    config = tmp_path / "hogfleet.toml"
    config.write_text(
        "[signups]\npool = 12\nhistory_days = 20\n\n[fleet]\nsession_retries = 0\nconcurrency = 2\n",
        encoding="utf-8",
    )
    state = tmp_path / "state"
    env = {**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp_path / "ss"), "HOGFLEET_PAUSED": "0"}
    env.pop("HOGFLEET_STATE_DIR", None)
    argv = [
        *("run", "--target", "demo", "--site-profile", str(site), "--config", str(config)),
        *("--max-sessions", "2", "--dwell-scale", "0", "--fail-over", "0.1"),
        *("--state-dir", str(state), "--json", "--date", "2026-02-02", "--seed", "3"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "bots.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 1, f"stdout={proc.stdout[-2000:]!r} stderr={proc.stderr[-2000:]!r}"
    summary = orjson.loads(proc.stdout)
    assert summary["attempted"] == 2
    assert summary["outcomes"]["failed"] >= 1
    assert summary["failure_share"] > 0.1
    assert "over --fail-over 0.1" in proc.stderr
    assert len(summary["failures"]) == summary["outcomes"]["failed"]
