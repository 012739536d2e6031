"""deploy/k8s/*.yaml and the nightly workflow's matrix mode: they parse, have the right shape, pin
the same Playwright as the Dockerfile, and only call hogfleet commands and flags that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bots.test_workflows import check_call, hogfleet_calls, load

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def docs() -> list[dict[str, Any]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), path
            out.append(doc)
    return out


def by_name(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod(doc)
    return [*spec.get("initContainers", []), *spec["containers"]]


def dockerfile_tag() -> str:
    match = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert match
    return match.group(1)


@pytest.fixture(scope="module")
def cli(cli_group: Any) -> Any:
    assert isinstance(getattr(cli_group, "commands", None), dict)
    return cli_group


def test_every_manifest_parses_and_the_topology_is_complete() -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs())
    assert kinds == [
        ("ConfigMap", "hogfleet-env"),
        ("ConfigMap", "hogfleet-toml"),
        ("Deployment", "hogfleet-browsers"),
        ("Job", "hogfleet-merge"),
        ("Job", "hogfleet-shards"),
        ("PersistentVolumeClaim", "hogfleet-state"),
        ("Service", "hogfleet-browsers"),
    ]
    assert by_name("PersistentVolumeClaim", "hogfleet-state")["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_shards_are_an_indexed_job_that_plans_first() -> None:
    job = by_name("Job", "hogfleet-shards")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["parallelism"] == spec["completions"] >= 2
    main = pod(job)["containers"][0]
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["JOB_COMPLETIONS"] == str(spec["completions"]), "JOB_COMPLETIONS must repeat completions"
    init = pod(job)["initContainers"]
    assert len(init) == 1 and "hogfleet plan --date" in " ".join(init[0]["args"])
    assert "hogfleet run" in " ".join(main["args"]) and "--shard" not in " ".join(main["args"])
    for doc in (job, by_name("Job", "hogfleet-merge")):
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod(doc)["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["hogfleet-state"]


def test_images_pin_the_dockerfiles_playwright() -> None:
    base = dockerfile_tag()  # mcr.microsoft.com/playwright/python:vX.Y.Z-noble
    version = re.search(r":v(\d+\.\d+\.\d+)", base)
    assert version
    browsers = by_name("Deployment", "hogfleet-browsers")
    (server,) = containers(browsers)
    assert server["image"] == base, "the browser pool must run the Dockerfile's Playwright"
    assert server["command"][:4] == ["python", "-m", "playwright", "run-server"]
    service = by_name("Service", "hogfleet-browsers")
    assert service["spec"]["selector"] == browsers["spec"]["template"]["metadata"]["labels"]
    for job in ("hogfleet-shards", "hogfleet-merge"):
        for container in containers(by_name("Job", job)):
            assert container["image"] == f"hogfleet:{version.group(1)}", (job, container["image"])


def test_every_hogfleet_call_in_the_manifests_exists(cli: Any) -> None:
    seen = []
    for doc in docs():
        if doc["kind"] != "Job":
            continue
        for container in containers(doc):
            script = " ".join([*container.get("command", []), *container.get("args", [])])
            script = script.replace("/bin/sh -c ", "")
            for sub, args in hogfleet_calls(script):
                check_call(cli, sub, args)
                seen.append(sub)
    assert sorted(set(seen)) == ["merge", "plan", "run"]


def test_nightly_matrix_mode_plans_then_shards_then_merges(cli: Any) -> None:
    nightly = load("nightly.yml")
    jobs = nightly["jobs"]
    assert {"plan", "shard", "merge"} <= set(jobs)
    assert jobs["shard"]["needs"] == "plan" or "plan" in jobs["shard"]["needs"]
    assert "shard" in jobs["merge"]["needs"]
    matrix = jobs["shard"]["strategy"]["matrix"]
    assert "index" in matrix
    shard_env = jobs["shard"].get("env", {})
    assert "HOGFLEET_SHARD_INDEX" in shard_env and "HOGFLEET_SHARD_TOTAL" in shard_env
    runs = {name: "\n".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    assert (
        "hogfleet plan" in runs["plan"]
        and "hogfleet run" in runs["shard"]
        and "hogfleet merge" in runs["merge"]
    )
    uses = {name: [str(s.get("uses", "")) for s in job["steps"]] for name, job in jobs.items()}
    # Artifacts carry the plan to the shards and the ledgers + storage states to the merge job;
    # only the merge job saves the final cache (shards never hold the whole state). The combined
    # actions/cache action is used so the single-machine job keeps the one restore/save pair.
    assert any(u.startswith("actions/upload-artifact@") for u in uses["plan"])
    assert any(u.startswith("actions/download-artifact@") for u in uses["shard"])
    assert any(u.startswith("actions/upload-artifact@") for u in uses["shard"])
    assert any(u.startswith("actions/download-artifact@") for u in uses["merge"])
    merge_cache = [s for s in jobs["merge"]["steps"] if str(s.get("uses", "")).startswith("actions/cache@")]
    assert len(merge_cache) == 1 and merge_cache[0]["with"]["key"] == "hogfleet-state-${{ github.run_id }}"
    planned_key = next(
        s for s in jobs["plan"]["steps"] if str(s.get("uses", "")).startswith("actions/cache@")
    )
    assert merge_cache[0]["with"]["restore-keys"].strip() == planned_key["with"]["key"]
    assert not any("cache" in u for u in uses["shard"] if not u.startswith("actions/setup-python"))
    for name in ("plan", "shard", "merge"):
        for sub, args in hogfleet_calls(runs[name]):
            check_call(cli, sub, args)
