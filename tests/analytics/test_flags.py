"""analytics.flags and `/flags`: PostHog's bucketing, the TOML file, the posthog-js v2 answer."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from posthog import feature_flags as posthog_python

from analytics.capture import create_capture_app
from analytics.flags import FlagsError, FlagSet, default_flags, flag_hash, load_flags, parse_flags
from analytics.store import EventStore
from analytics.testing import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = """
[[flags]]
key = "exp"
variants = [
    { key = "control", rollout_percentage = 50 },
    { key = "a", rollout_percentage = 30 },
    { key = "b", rollout_percentage = 20 },
]
payloads = { a = { color = "red" } }

[[flags]]
key = "half"
rollout_percentage = 50
payloads = { "true" = [1, 2] }

[[flags]]
key = "off"
active = false
"""


def test_hash_matches_posthogs_own_test_values() -> None:
    # posthog/models/feature_flag flag_matching tests: "distinct_id_1 + test-flag = 0.35140843114131903".
    assert flag_hash("test-flag", "distinct_id_1") == pytest.approx(0.35140843114131903, abs=1e-15)
    # posthog/test/test_feature_flag.py `test_rollout_percentage`: 50 % of beta-feature.
    flags = parse_flags('[[flags]]\nkey = "beta-feature"\nrollout_percentage = 50\n', "t")
    assert flags.evaluate("example_id")["beta-feature"].enabled is True
    assert flags.evaluate("another_id")["beta-feature"].enabled is False


def test_matches_posthog_python_for_rollouts_and_variants() -> None:
    flags = parse_flags(EXPERIMENT, "t")
    definition = {
        "key": "exp",
        "filters": {
            "multivariate": {
                "variants": [
                    {"key": "control", "rollout_percentage": 50},
                    {"key": "a", "rollout_percentage": 30},
                    {"key": "b", "rollout_percentage": 20},
                ]
            }
        },
    }
    for i in range(300):
        did = f"distinct_id_{i}"
        assert flag_hash("half", did) == posthog_python._hash("half", did)
        results = flags.evaluate(did)
        assert results["exp"].variant == posthog_python.get_matching_variant(definition, did)
        assert results["half"].enabled == (posthog_python._hash("half", did) <= 0.5)


Serve = Callable[..., httpx.Client]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start a capture app on a real port per call; all are stopped after the test."""
    with ExitStack() as stack:

        def start(name: str, flags: FlagSet | None = None) -> httpx.Client:
            store = EventStore(tmp_path / f"{name}.sqlite")
            stack.callback(store.close)
            url = stack.enter_context(serve_in_thread(create_capture_app(store, flags=flags)))
            return stack.enter_context(httpx.Client(base_url=url))

        yield start


def _ask(client: httpx.Client, distinct_id: str, **extra: Any) -> dict[str, Any]:
    # As posthog-js 1.347.2 asks: base64 form body (`compression=base64`), `/flags/?v=2&config=true`.
    body = json.dumps({"token": "phc", "distinct_id": distinct_id, **extra}).encode()
    r = client.post(
        "/flags/?v=2&config=true&compression=base64",
        content=b"data=" + base64.b64encode(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    payload: dict[str, Any] = r.json()
    return payload


def test_same_distinct_id_same_variant_across_separate_apps(serve: Serve) -> None:
    one, two = serve("one"), serve("two")
    for did in ("persona-ada", "persona-bob", "0192f0c4-1111-7000-8000-000000000000"):
        first, second = _ask(one, did), _ask(two, did)
        assert first["featureFlags"] == second["featureFlags"]
        assert first["featureFlags"] == {k: r.value for k, r in default_flags().evaluate(did).items()}


def test_variant_shares_follow_rollouts() -> None:
    flags = parse_flags(EXPERIMENT, "t")
    n = 400
    variants = Counter(flags.evaluate(f"synthetic-{i}")["exp"].variant for i in range(n))
    for key, share in (("control", 50), ("a", 30), ("b", 20)):
        assert abs(100 * variants[key] / n - share) <= 5, variants
    on = sum(flags.evaluate(f"synthetic-{i}")["half"].enabled for i in range(n))
    assert abs(100 * on / n - 50) <= 5


def test_v2_answer_shape_with_payloads_and_replay(serve: Serve) -> None:
    flags = parse_flags(EXPERIMENT, "t")
    client = serve("shape", flags)
    did = next(f"u{i}" for i in range(1000) if flags.evaluate(f"u{i}")["exp"].variant == "a")
    answer = _ask(client, did)
    detail = answer["flags"]["exp"]
    assert detail["key"] == "exp" and detail["enabled"] is True and detail["variant"] == "a"
    assert detail["reason"]["code"] == "condition_match"
    # Payloads are JSON-encoded strings, as PostHog sends them and posthog-js JSON.parses them.
    assert json.loads(detail["metadata"]["payload"]) == {"color": "red"}
    assert json.loads(answer["featureFlagPayloads"]["exp"]) == {"color": "red"}
    assert answer["featureFlags"]["exp"] == "a"
    assert "off" not in answer["flags"] and "off" not in answer["featureFlags"]
    assert answer["sessionRecording"]["endpoint"] == "/s/"
    assert answer["errorsWhileComputingFlags"] is False and answer["requestId"]
    # A bare GET (no distinct id) still gets the config, and no flags.
    bare = client.get("/flags/?v=2").json()
    assert bare["flags"] == {} and bare["sessionRecording"]["endpoint"] == "/s/"
    assert client.post("/flags/?v=2", content=b"{not json").status_code == 400


def test_person_property_condition(serve: Serve) -> None:
    client = serve("props")
    key = "early_access_ai_summaries"
    assert _ask(client, "p1")["featureFlags"][key] is False
    enrolled = _ask(client, "p1", person_properties={f"$feature_enrollment/{key}": True})
    assert enrolled["featureFlags"][key] is True


def test_default_file_defines_what_hogflix_reads() -> None:
    keys = {f.key for f in default_flags().flags}
    assert {
        "FloatingHedgehog_Widget_Visibility_UXUI_Test",
        "Popular_vs_Trending_Priority_Algo_Test",
        "pricing_upgrade_cta_experiment",
        "pricing_layout_experiment_v2",
        "browse_upgrade_banner",
        "browse_ipl_tickets_banner",
        "flixbuddy_welcome_experiment",
        "flixbuddy-prompt-experiment",
        "signup_method_test",
        "ultimate_button_fix",
        "early_access_ai_summaries",
        "vip_retention_offer",
        "power_user_early_access",
        "vip_livestream_banner",
    } <= keys


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[flags]\nkey = 1", "invalid TOML"),
        ('[[flags]]\nkey = ""', "'key' must be a non-empty string"),
        ('[[flags]]\nkey = "a"\nrollout = 5', "unknown field(s) ['rollout']"),
        ('[[flags]]\nkey = "a"\nrollout_percentage = 150', "within 0..100"),
        ('[[flags]]\nkey = "a"\nrollout_percentage = "half"', "must be a number"),
        ('[[flags]]\nkey = "a"\nvariants = [{ key = "x", rollout_percentage = 60 }]', "add up to 60"),
        ('[[flags]]\nkey = "a"\nvariants = [{ key = "x" }]', "no rollout_percentage"),
        ('[[flags]]\nkey = "a"\npayloads = { x = 1 }', "payloads for unknown variant(s) ['x']"),
        ('[[flags]]\nkey = "a"\n[[flags]]\nkey = "a"', "defined twice"),
        ('[[flags]]\nkey = "a"\nactive = "yes"', "'active' must be true or false"),
        ('[flag]\nkey = "a"', "unknown top-level key(s) ['flag']"),
    ],
)
def test_bad_files_give_one_line_naming_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(text)
    with pytest.raises(FlagsError) as info:
        load_flags(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


def test_missing_file_and_cli_error(tmp_path: Path) -> None:
    with pytest.raises(FlagsError, match="cannot read"):
        load_flags(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[flags]]\nkey = "a"\nrollout_percentage = -1\n')
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "serve", "--flags", str(bad), "--db", str(tmp_path / "e.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and str(bad) in proc.stderr and "Traceback" not in proc.stderr
