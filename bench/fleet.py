"""The fleet on one machine, side by side in one run, on the demo at --dwell-scale 0 (docs/scaling.md).

Every figure uses the standard journey (homepage, two popular titles watched to 60%, by a returning
persona whose account was created through the UI in a warm-up pass):

- hogfleet (bots.runtime.fleet.Fleet, the code `hogfleet run` runs) at concurrency 1, 2, 4, 8 and adaptive:
  sessions/min (first start to last end) and p95 session time;
- a bare hand-written Playwright script doing the same clicks in a pre-launched browser, and
  hogfleet's session time over it (the fleet overhead ratio);
- a naive baseline: the same journey code, one fresh browser launch per session;
- peak RSS of the browser process tree and RSS per extra concurrent context;
- the fleet's own Python CPU share of the run's CPU (Python + driver + Chromium + demo);
- identity restore (cheap vs Playwright's storage_state), trace modes, asset blocking, recycling;
- trace size per failed session (a broken selector) and the planner at 1,000,000 personas;
- the real HogFlix production build (``--real-build DIR``, served offline by a second embedded demo
  with ``--frontend``, driven through flows/profiles/hogflix.toml) next to the demo's own pages, in
  interleaved rounds at c=1 and c=``--real-concurrency``: sessions/min and peak browser PSS per
  extra concurrent context on each site. Its personas sign up on the real build first (a paid
  plan, so through the app's HedgePal checkout). Skipped with one line when the build is missing.

Prints a markdown table and writes it to bench/results.md. Never passes or fails.
Run: .venv/bin/python bench/fleet.py [--sessions N] [--quick] [--real-build DIR]
     [--real-concurrency N] [--real-build-only]
--real-build-only runs the two warm-ups and the real-build comparison alone, and rewrites only that
section of the output file (the rest of it is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Playwright, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DAY,
    Sampler,
    browse_plan,
    chromium_cpu_s,
    cpu_delta,
    median,
    p95,
    standard_plan,
)

from bots.config.settings import FleetSettings, TraceMode
from bots.records.ledger import Ledger, LedgerRecord
from bots.records.storage import StorageStates
from bots.runtime import hooks
from bots.runtime.attempt import Live, WorkItem, run_item
from bots.runtime.browser import chromium_version, resolve
from bots.runtime.fleet import Fleet
from bots.runtime.runenv import RunEnv, build_run_env
from bots.runtime.target import DemoProcess
from flows.profile import DEMO_PROFILE, SiteProfile, load_profile

ROOT = Path(__file__).resolve().parent.parent
REAL_BUILD = ROOT.parent / "shared" / "hogflix" / "dist"
REAL_HEADING = "## The real HogFlix build next to the demo's pages"
DEFAULTS = FleetSettings()
# Bench.fleet keywords that shape the run environment; the rest go to Fleet.
ENV_KEYS = frozenset(
    {"trace", "restore", "block_assets", "step_timeout_s", "session_retries", "profile", "save_state"}
)
SEL = {
    "row": "[data-testid=row-popular]",
    "card": "[data-testid=title-card]",
    "title": "[data-testid=title-name]",
    "play": "[data-testid=play-button]",
    "player": "[data-testid=player]",
}


@dataclass
class Level:
    name: str
    sessions: int
    ok: int
    per_min: float
    median_s: float
    p95_s: float
    peak_rss_mb: float = 0.0
    cpu: dict[str, float] | None = None
    peak_pss_mb: float = 0.0
    extra: str = ""
    durations: list[float] = field(default_factory=list)
    span_s: float = 0.0


def merge(name: str, blocks: Sequence[Level]) -> Level:
    """One row from interleaved blocks of the same configuration: throughput over the summed
    spans, percentiles over every session, the highest memory peak."""
    durations = [d for lv in blocks for d in lv.durations]
    ok, span = sum(lv.ok for lv in blocks), sum(lv.span_s for lv in blocks)
    cpu: dict[str, float] = {}
    for lv in blocks:
        for k, v in (lv.cpu or {}).items():
            cpu[k] = cpu.get(k, 0.0) + v
    return Level(
        name,
        sum(lv.sessions for lv in blocks),
        ok,
        60 * ok / span if span > 0 else 0.0,
        median(durations),
        p95(durations),
        max(lv.peak_rss_mb for lv in blocks),
        cpu,
        max(lv.peak_pss_mb for lv in blocks),
        " / ".join(dict.fromkeys(lv.extra for lv in blocks if lv.extra)),
        durations,
        span,
    )


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        tmp: Path,
        base_url: str,
        sampler: Sampler,
        profile: SiteProfile | None = None,
    ) -> None:
        self.args, self.tmp, self.base_url, self.sampler = args, tmp, base_url, sampler
        self.profile = profile or load_profile(None)
        self.storage = StorageStates(tmp / "ss")
        self.counter = 0
        self.rows: list[Level] = []
        self.notes: dict[str, str] = {}

    def env(self, **kw: Any) -> RunEnv:
        """The runtime `hogfleet run` builds from the default settings, with the bench's overrides
        (as fast as the pages allow, one attempt) and the row's (``trace=``, ``restore=``, ...)."""
        settings_kw = {k: v for k, v in kw.items() if k in FleetSettings.model_fields}
        return build_run_env(
            DEFAULTS,
            overrides={"dwell_scale": 0.0, "session_retries": 0, **settings_kw},
            base_url=self.base_url,
            profile=kw.get("profile") or self.profile,
            storage=self.storage,
            artifacts_dir=self.tmp / "artifacts",
            run_id="bench",
            date=DAY,
            save_state=kw.get("save_state", True),
        )

    def plans(self, label: str, n: int, *, signup: bool = False, browse: bool = False) -> list[WorkItem]:
        out: list[WorkItem] = []
        make = browse_plan if browse else standard_plan
        for i in range(n):
            self.counter += 1
            out.append(make(label, self.counter, i % self.args.personas, signup=signup))
        return out

    async def fleet(
        self,
        label: str,
        concurrency: int | None,
        n: int | None = None,
        *,
        quiet: bool = False,
        browse: bool = False,
        **kw: Any,
    ) -> tuple[Level, list[LedgerRecord]]:
        env = self.env(**{k: v for k, v in kw.items() if k in ENV_KEYS})
        fleet_kw = {k: v for k, v in kw.items() if k not in ENV_KEYS}
        items = self.plans(label, n or self.args.sessions, browse=browse)
        fleet = Fleet(
            env=env,
            ledger=Ledger(self.tmp / "runs" / f"{label}.jsonl"),
            concurrency=concurrency,  # type: ignore[arg-type]
            paused=lambda: False,
            show_progress=False,
            breaker_threshold=10_000,
            **fleet_kw,
        )
        self.sampler.reset_peak()
        before = self.sampler.cpu_snapshot()
        result = await fleet.run(items)
        after = self.sampler.cpu_snapshot()
        level = summarise(
            label, result.records, self.sampler.peak_browser_kb / 1024, cpu_delta(before, after)
        )
        level.peak_pss_mb = self.sampler.peak_browser_pss_kb / 1024
        if getattr(fleet, "concurrency_trace", None):
            level.extra = "limit " + "→".join(str(x) for x in fleet.concurrency_trace)  # type: ignore[attr-defined]
        if not quiet:
            self.report(level)
        return level, result.records

    def pooled(self, name: str, ok: int, durations: list[float], wall: float, cpu: dict[str, float]) -> Level:
        """A row for sessions run by :func:`pool`: ok sessions per minute of wall time, and the
        sampler's memory peaks since its last reset."""
        return Level(
            name,
            len(durations),
            ok,
            60 * ok / wall if wall > 0 else 0.0,
            median(durations),
            p95(durations),
            self.sampler.peak_browser_kb / 1024,
            cpu,
            self.sampler.peak_browser_pss_kb / 1024,
            durations=durations,
            span_s=wall,
        )

    def report(self, level: Level) -> Level:
        self.rows.append(level)
        print(f"  {row_text(level)}", flush=True)
        return level

    async def interleaved(
        self, runs: dict[str, Callable[[int], Awaitable[Level]]], rounds: int
    ) -> dict[str, Level]:
        """Run each configuration in ``rounds`` blocks, taking turns (A B C A B C ...), so that a
        shared box's load drifting over minutes hits every configuration alike: the comparisons
        between them (overhead, naive baseline) are what this bench is for."""
        per_block = max(1, -(-self.args.sessions // rounds))
        blocks: dict[str, list[Level]] = {name: [] for name in runs}
        for r in range(rounds):
            for name, run in runs.items():
                blocks[name].append(await run(per_block))
                print(f"    round {r + 1}/{rounds}: {row_text(blocks[name][-1])}", flush=True)
        return {name: self.report(merge(name, got)) for name, got in blocks.items()}


def summarise(label: str, records: Sequence[LedgerRecord], rss_mb: float, cpu: dict[str, float]) -> Level:
    ok = [r for r in records if r.outcome == "ok"]
    if not records:
        return Level(label, 0, 0, 0.0, 0.0, 0.0)
    span = (max(r.ended_at for r in records) - min(r.started_at for r in records)).total_seconds()
    durations = [r.duration_s for r in ok] or [r.duration_s for r in records]
    return Level(
        label,
        len(records),
        len(ok),
        60 * len(ok) / span if span > 0 else 0.0,
        median(durations),
        p95(durations),
        rss_mb,
        cpu,
        durations=durations,
        span_s=span,
    )


def row_text(level: Level) -> str:
    return (
        f"{level.name}: {level.ok}/{level.sessions} ok, {level.per_min:.1f}/min, "
        f"median {level.median_s:.2f}s, p95 {level.p95_s:.2f}s, peak browser RSS {level.peak_rss_mb:.0f} MB "
        f"(PSS {level.peak_pss_mb:.0f} MB), Python CPU {fmt_cpu(level.cpu)} {level.extra}"
    )


async def launch(pw: Playwright) -> Browser:
    choice = resolve()
    return await pw.chromium.launch(
        executable_path=choice.executable if choice.kind == "system" else None, args=list(choice.args)
    )


async def pool(n: int, concurrency: int, job: Callable[[int], Awaitable[float]]) -> tuple[list[float], float]:
    """Run ``job(i)`` for i < n on ``concurrency`` workers; (durations, wall seconds)."""
    todo = list(range(n))
    durations: list[float] = []

    async def worker() -> None:
        while todo:
            durations.append(await job(todo.pop(0)))

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return durations, time.perf_counter() - t0


async def bare_session(browser: Browser, device: dict[str, Any], base: str, state: Path, k: int) -> float:
    """The standard journey, written by hand against the demo's data-testids: plain Playwright."""
    t0 = time.perf_counter()
    context = await browser.new_context(**device, storage_state=str(state))
    await context.add_init_script(
        "try { localStorage.setItem('hogflix_synthetic', JSON.stringify({is_synthetic: true})) } catch (e) {}"
    )
    await context.clock.install()
    page = await context.new_page()
    for video in range(2):
        await page.goto(base + "/")
        cards = page.locator(SEL["row"]).locator(SEL["card"])
        await cards.first.wait_for()
        async with page.expect_navigation():
            await cards.nth((k + video) % 3).click()
        await page.locator(SEL["title"]).wait_for()
        async with page.expect_navigation():
            await page.locator(SEL["play"]).click()
        player = page.locator(SEL["player"])
        await player.wait_for()
        duration = float(await player.get_attribute("data-duration") or 0)
        await page.clock.run_for(int(duration * 0.6 * 1000))
    await page.goto("about:blank")
    await context.storage_state(path=str(state))
    await context.close()
    return time.perf_counter() - t0


async def bare(b: Bench, concurrency: int, n: int) -> Level:
    states = sorted(b.storage.root.glob("*.json"))
    async with async_playwright() as pw:
        browser = await launch(pw)
        device = dict(pw.devices["Desktop Chrome"])
        device.pop("default_browser_type", None)
        await bare_session(browser, device, b.base_url, states[0], 0)  # warm, like the fleet's launch
        b.sampler.reset_peak()
        before = b.sampler.cpu_snapshot()
        durations, wall = await pool(
            n,
            concurrency,
            lambda i: bare_session(browser, device, b.base_url, states[i % len(states)], i),
        )
        after = b.sampler.cpu_snapshot()
        await browser.close()
    # A bare session that fails raises, so every duration is an ok session.
    name = f"bare Playwright script, c={concurrency}"
    return b.pooled(name, len(durations), durations, wall, cpu_delta(before, after))


async def naive(b: Bench, concurrency: int, n: int, *, browse: bool = False) -> Level:
    """hogfleet's journey code, but a fresh browser launched (and closed) for every session."""
    env = b.env()
    tag = "browse" if browse else "std"
    ledger = Ledger(b.tmp / "runs" / f"naive-{tag}-{concurrency}.jsonl")
    items = b.plans(f"naive{tag}{concurrency}", n, browse=browse)
    records: list[LedgerRecord] = []

    def record(rec: LedgerRecord) -> None:
        ledger.append(rec)
        records.append(rec)

    async with async_playwright() as pw:
        live = Live(pw.devices)

        async def job(i: int) -> float:
            t0 = time.perf_counter()
            browser = await launch(pw)

            async def get() -> Browser:
                return browser

            try:
                await run_item(get, env, live, items[i], record)
            finally:
                await browser.close()
            return time.perf_counter() - t0

        b.sampler.reset_peak()
        before = b.sampler.cpu_snapshot()
        durations, wall = await pool(len(items), concurrency, job)
        after = b.sampler.cpu_snapshot()
    name = f"naive: browser per session, c={concurrency}" + (", browse journey" if browse else "")
    return b.pooled(name, sum(r.outcome == "ok" for r in records), durations, wall, cpu_delta(before, after))


async def restore_micro(b: Bench, n: int) -> dict[str, float]:
    """Context open + identity restore + first page ready, per restore mode (sequential)."""
    from bots.runtime.restore import new_context

    states = sorted(b.storage.root.glob("*.json"))
    out: dict[str, float] = {}
    async with async_playwright() as pw:
        browser = await launch(pw)
        device = dict(pw.devices["Desktop Chrome"])
        device.pop("default_browser_type", None)
        for mode in ("playwright", "cheap", "playwright", "cheap"):
            times: list[float] = []
            for i in range(n):
                state = b.storage.load(states[i % len(states)].stem)
                t0 = time.perf_counter()
                ctx = await new_context(browser, device, state, mode)  # type: ignore[arg-type]
                t1 = time.perf_counter()
                page = await ctx.new_page()
                await page.goto(b.base_url + "/")
                await page.locator(SEL["row"]).wait_for()
                times.append(t1 - t0)
                await ctx.close()
            out[mode] = median(times)  # the second round of each mode wins: warm
        await browser.close()
    return out


async def failing(b: Bench, trace: TraceMode, n: int) -> tuple[list[int], float]:
    broken = b.tmp / "broken.toml"
    broken.write_text(DEMO_PROFILE.read_text().replace("[data-testid=player]", "[data-testid=nope]"))
    label = f"fail-{trace}"
    _, records = await b.fleet(
        label,
        min(n, 4),
        n,
        quiet=True,
        trace=trace,
        profile=load_profile(broken),
        step_timeout_s=3.0,
        session_retries=1,
        save_state=False,
    )
    # on-first-retry: both lines of a failed session point at the retry's one zip; count it once.
    zips = {r.artifacts.trace for r in records if r.artifacts.trace}
    sizes = [Path(z).stat().st_size for z in sorted(zips)]
    span = (max(r.ended_at for r in records) - min(r.started_at for r in records)).total_seconds()
    return sizes, span


async def recycling(b: Bench, every: int | None, k: int) -> tuple[float, float]:
    """Browser-tree PSS after session 2 (the baseline: a fresh browser, warm) and after session
    3k+2, sampled between sessions at c=1 so no page is in flight. With ``recycle_every=k`` the
    last sample is taken on the fourth browser, two sessions after its launch."""
    marks: list[float] = []

    def on_record(_: LedgerRecord) -> None:
        b.sampler.sample(os.getpid())
        marks.append(b.sampler.last_browser_pss_kb / 1024)

    remove = hooks.session_recorded.add(on_record)
    try:
        await b.fleet(f"recycle-{every}", 1, 3 * k + 2, quiet=True, recycle_every=every)
    finally:
        remove()
    if len(marks) < 2:
        return 0.0, 0.0
    return marks[1], marks[-1]


async def setup_cost(b: Bench, n: int) -> dict[str, tuple[float, float]]:
    """The per-session fixed cost of each design, with the first page loaded: a browser launch
    (naive) vs a context in a running browser (hogfleet). Median wall s, mean Chromium CPU s."""
    out: dict[str, tuple[float, float]] = {}
    async with async_playwright() as pw:
        running = await launch(pw)

        async def one(fresh: bool) -> float:
            t0 = time.perf_counter()
            browser = await launch(pw) if fresh else running
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(b.base_url + "/")
            await context.close()
            if fresh:
                await browser.close()
            return time.perf_counter() - t0

        for name, fresh in (("launch", True), ("context", False), ("launch", True), ("context", False)):
            before = chromium_cpu_s()
            walls = [await one(fresh) for _ in range(n)]
            await asyncio.sleep(0.5)  # closed processes are reaped, so their time is counted
            out[name] = (median(walls), (chromium_cpu_s() - before) / n)  # second round wins: warm
        await running.close()
    return out


def planner(n: int) -> tuple[float, float, int]:
    import simulate as sim  # bench/simulate.py

    from personas.config import DEFAULT_CONFIG
    from personas.planner import plan_day
    from personas.simulation import _step_all, new_population

    base = new_population(1, sim.START, DEFAULT_CONFIG)
    huge = sim.tiled(base, n)
    t0 = time.perf_counter()
    stepped, _ = _step_all(huge, sim.START, 1, DEFAULT_CONFIG, history=False)
    t1 = time.perf_counter()
    plan = plan_day(stepped, sim.START, 1, DEFAULT_CONFIG)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(plan.sessions)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def pct_change(before: float, after: float) -> str:
    return f"{100 * (after / before - 1):+.0f}%" if before else "n/a"


def fmt_cpu(cpu: dict[str, float] | None) -> str:
    if not cpu:
        return ""
    total = sum(cpu.values()) or 1.0
    return f"{100 * cpu.get('python', 0) / total:.1f}%"


async def warm_up(b: Bench, what: str) -> None:
    """Every persona of the bench signs up through the UI of ``b``'s site, so the measured
    sessions are returning personas restoring their stored login."""
    print(f"warm-up ({what}): {b.args.personas} personas sign up through the UI", flush=True)
    items = [standard_plan("signup", i, i, signup=True) for i in range(b.args.personas)]
    fleet = Fleet(
        env=b.env(),
        ledger=Ledger(b.tmp / "runs" / "signup.jsonl"),
        concurrency=4,
        paused=lambda: False,
        show_progress=False,
    )
    warm = await fleet.run(items)
    print(f"  {sum(r.outcome == 'ok' for r in warm.records)}/{len(items)} signed up", flush=True)
    for r in warm.records:
        if r.outcome != "ok":
            print(f"  {r.session_id}: {r.outcome} at {r.error_step}: {r.error_message}"[:300], flush=True)


async def real_build(b: Bench, real: Bench, rounds: int) -> list[str]:
    """The standard journey on the demo's pages and on the real HogFlix build, at c=1 and
    c=--real-concurrency, in interleaved rounds (demo, real, demo, real, ...): sessions/min and
    peak browser PSS per extra concurrent context for each. A markdown section of its own."""
    c = b.args.real_concurrency
    load_before = os.getloadavg()

    def run(bench: Bench, label: str, conc: int) -> Callable[[int], Awaitable[Level]]:
        async def go(n: int) -> Level:
            return (await bench.fleet(label, conc, max(n, 2 * conc), quiet=True))[0]

        return go

    names = {(site, k): f"{site}, c={k}" for k in (1, c) for site in ("demo pages", "real HogFlix build")}
    print(f"the real HogFlix build next to the demo's pages, c=1 and c={c} (interleaved)", flush=True)
    got = await real.interleaved(
        {name: run(b if site == "demo pages" else real, name, k) for (site, k), name in names.items()},
        rounds,
    )
    load_after = os.getloadavg()
    demo1, democ = got[names["demo pages", 1]], got[names["demo pages", c]]
    real1, realc = got[names["real HogFlix build", 1]], got[names["real HogFlix build", c]]
    extra_demo = (democ.peak_pss_mb - demo1.peak_pss_mb) / (c - 1)
    extra_real = (realc.peak_pss_mb - real1.peak_pss_mb) / (c - 1)
    lines = [
        REAL_HEADING,
        "",
        f"Measured {dt.date.today()} on {platform.node()}: {os.cpu_count()} vCPU, load average (1/5/15 min) "
        f"{'/'.join(f'{x:.2f}' for x in load_before)} before this section, "
        f"{'/'.join(f'{x:.2f}' for x in load_after)} after (a shared machine: other work may have run "
        f"meanwhile; the rounds are interleaved so it hits both sites alike). Standard journey "
        f"(homepage entry → 2 popular titles watched to 60%, returning persona signed up in a warm-up "
        f"pass on each site), --dwell-scale 0, {b.args.sessions} sessions per row requested in "
        f"{rounds} interleaved rounds (at least 2×c per block). Demo pages: flows/profiles/demo.toml; "
        f"real build: {b.args.real_build} on the embedded demo's local backend, flows/profiles/hogflix.toml.",
        "",
        "| configuration | ok / sessions | sessions/min | median s | p95 s | peak browser RSS MB (PSS) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for lv in real.rows:
        lines.append(
            f"| {lv.name} | {lv.ok}/{lv.sessions} | {lv.per_min:.1f} | {lv.median_s:.2f} | {lv.p95_s:.2f} | "
            f"{lv.peak_rss_mb:.0f} ({lv.peak_pss_mb:.0f}) |"
        )
    lines += [
        "",
        "| figure | demo pages | real HogFlix build | real / demo |",
        "|---|---:|---:|---:|",
        f"| sessions/min, c={c} | {democ.per_min:.1f} | {realc.per_min:.1f} | "
        f"{ratio(realc.per_min, democ.per_min):.2f}× |",
        f"| sessions/min, c=1 | {demo1.per_min:.1f} | {real1.per_min:.1f} | "
        f"{ratio(real1.per_min, demo1.per_min):.2f}× |",
        f"| median session s, c=1 | {demo1.median_s:.2f} | {real1.median_s:.2f} | "
        f"{ratio(real1.median_s, demo1.median_s):.2f}× |",
        f"| peak browser PSS MB, c=1 → c={c} | {demo1.peak_pss_mb:.0f} → {democ.peak_pss_mb:.0f} | "
        f"{real1.peak_pss_mb:.0f} → {realc.peak_pss_mb:.0f} | |",
        f"| PSS per extra concurrent context (peak, c=1 → c={c}) | {extra_demo:.0f} MB | "
        f"{extra_real:.0f} MB | {ratio(extra_real, extra_demo):.2f}× |",
    ]
    return lines


async def main_async(
    args: argparse.Namespace, tmp: Path, base_url: str, sampler: Sampler, real_url: str | None
) -> list[str]:
    b = Bench(args, tmp, base_url, sampler)
    levels = [1, 2, 4] if args.quick else [1, 2, 4, 8]
    rounds = 2 if args.quick else 3
    await warm_up(b, "demo pages")
    real_section: list[str] = []
    if real_url is not None:
        real = Bench(args, tmp / "real", real_url, sampler, load_profile(Path("hogflix")))
        await warm_up(real, "real HogFlix build")
        real_section = await real_build(b, real, rounds)
    if args.real_build_only:
        return real_section

    def fleet_run(label: str, c: int, **kw: Any) -> Callable[[int], Awaitable[Level]]:
        async def run(n: int) -> Level:
            return (await b.fleet(label, c, max(n, 2 * c), quiet=True, **kw))[0]

        return run

    print("head to head: hogfleet, a bare script, a browser per session (interleaved)", flush=True)
    h2h = await b.interleaved(
        {
            "hogfleet, c=1": fleet_run("hogfleet, c=1", 1),
            "bare Playwright script, c=1": lambda n: bare(b, 1, n),
            "naive: browser per session, c=1": lambda n: naive(b, 1, n),
            "hogfleet, c=4": fleet_run("hogfleet, c=4", 4),
            "bare Playwright script, c=4": lambda n: bare(b, 4, max(n, 8)),
            "naive: browser per session, c=4": lambda n: naive(b, 4, max(n, 8)),
            "hogfleet, c=1, browse journey": fleet_run("hogfleet, c=1, browse journey", 1, browse=True),
            "naive, c=1, browse journey": lambda n: naive(b, 1, n, browse=True),
            "hogfleet, c=2, browse journey": fleet_run("hogfleet, c=2, browse journey", 2, browse=True),
            "naive, c=2, browse journey": lambda n: naive(b, 2, max(n, 4), browse=True),
        },
        rounds,
    )
    bare1, bare4 = h2h["bare Playwright script, c=1"], h2h["bare Playwright script, c=4"]
    naive1, naive4 = h2h["naive: browser per session, c=1"], h2h["naive: browser per session, c=4"]
    browse = {c: h2h[f"hogfleet, c={c}, browse journey"] for c in (1, 2)}
    browse_naive = {c: h2h[f"naive, c={c}, browse journey"] for c in (1, 2)}

    print("hogfleet by concurrency", flush=True)
    by_c: dict[int, Level] = {1: h2h["hogfleet, c=1"], 4: h2h["hogfleet, c=4"]}
    for c in levels:
        if c not in by_c:
            by_c[c], _ = await b.fleet(f"hogfleet, c={c}", c, max(args.sessions, 2 * c))
    adaptive, _ = await b.fleet("hogfleet, adaptive", None, max(args.sessions, 40))
    setup = await setup_cost(b, 4 if args.quick else 10)

    print("identity restore, trace modes, asset blocking (interleaved)", flush=True)
    micro = await restore_micro(b, 6 if args.quick else 12)
    variants = await b.interleaved(
        {
            "hogfleet c=4, restore=playwright": fleet_run("restore=playwright", 4, restore="playwright"),
            "hogfleet c=4, restore=cheap": fleet_run("restore=cheap", 4, restore="cheap"),
            "hogfleet c=4, trace=retain-on-failure": fleet_run("rof", 4, trace="retain-on-failure"),
            "hogfleet c=4, trace=on-first-retry": fleet_run("ofr", 4, trace="on-first-retry"),
            "hogfleet c=4, trace=off": fleet_run("trace=off", 4, trace="off"),
            "hogfleet c=4, block_assets=media,font,image": fleet_run(
                "blocked", 4, block_assets=("media", "font", "image")
            ),
        },
        rounds,
    )
    restore_pw, restore_cheap = (
        variants["hogfleet c=4, restore=playwright"],
        variants["hogfleet c=4, restore=cheap"],
    )
    trace_rof = variants["hogfleet c=4, trace=retain-on-failure"]
    trace_ofr = variants["hogfleet c=4, trace=on-first-retry"]
    trace_off = variants["hogfleet c=4, trace=off"]
    blocked = variants["hogfleet c=4, block_assets=media,font,image"]

    print("failures: trace size per failed session", flush=True)
    n_fail = 3 if args.quick else 6
    rof_sizes, rof_span = await failing(b, "retain-on-failure", n_fail)
    ofr_sizes, ofr_span = await failing(b, "on-first-retry", n_fail)

    print("browser recycling", flush=True)
    every = 10 if args.quick else 30
    n_rec = 3 * every + 2
    base_no, end_no = await recycling(b, None, every)
    base_yes, end_yes = await recycling(b, every, every)

    gc.collect()
    print("planner", flush=True)
    big = 100_000 if args.quick else 1_000_000
    step_s, plan_s, planned = planner(big)

    # -- the table ----------------------------------------------------------------------------------
    one, top = by_c[levels[0]], max(by_c.values(), key=lambda lv: lv.per_min)
    rss_extra = (by_c[levels[-1]].peak_rss_mb - one.peak_rss_mb) / (levels[-1] - levels[0])
    pss_extra = (by_c[levels[-1]].peak_pss_mb - one.peak_pss_mb) / (levels[-1] - levels[0])
    cpu4 = by_c[4].cpu or {}
    total4 = sum(cpu4.values()) or 1.0
    lines = [
        f"Measured {dt.date.today()} on {platform.node()}: {os.cpu_count()} vCPU, "
        f"{chromium_version(resolve().executable or '') if resolve().executable else 'remote'}, "
        f"Python {platform.python_version()}, load average before the run {args.load:.2f}; "
        f"{args.sessions} sessions per level, standard journey (homepage → 2 popular titles watched "
        "to 60%, returning persona), demo at --dwell-scale 0.",
        "",
        "| configuration | sessions/min | median s | p95 s | peak browser RSS MB (PSS) | Python CPU share |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for lv in b.rows:
        extra = f" ({lv.extra})" if lv.extra else ""
        lines.append(
            f"| {lv.name}{extra} | {lv.per_min:.1f} | {lv.median_s:.2f} | {lv.p95_s:.2f} | "
            f"{lv.peak_rss_mb:.0f} ({lv.peak_pss_mb:.0f}) | {fmt_cpu(lv.cpu)} |"
        )
    ratio1 = ratio(one.median_s, bare1.median_s)
    vs_naive1, vs_naive4 = ratio(one.per_min, naive1.per_min), ratio(by_c[4].per_min, naive4.per_min)
    ratio4 = ratio(by_c[4].median_s, bare4.median_s)
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    lines += [
        "",
        "| figure | value | goal |",
        "|---|---:|---|",
        f"| fleet overhead, c=1: hogfleet median / bare script median | {ratio1:.2f}× | ≤ 1.15× |",
        f"| fleet overhead, c=4 | {ratio4:.2f}× | ≤ 1.15× |",
        f"| hogfleet vs naive (browser per session), c=1 sessions/min | {vs_naive1:.2f}× "
        f"({one.per_min:.1f} vs {naive1.per_min:.1f}) | reported (no numeric goal) |",
        f"| hogfleet vs naive, c=4 sessions/min | {vs_naive4:.2f}× "
        f"({by_c[4].per_min:.1f} vs {naive4.per_min:.1f}) | reported (no numeric goal) |",
        f"| hogfleet vs naive, browse journey, c=1 / c=2 sessions/min | "
        f"{ratio(browse[1].per_min, browse_naive[1].per_min):.2f}× / "
        f"{ratio(browse[2].per_min, browse_naive[2].per_min):.2f}× | reported (no numeric goal) |",
        f"| per-session fixed cost, first page loaded: browser launch vs context | launch "
        f"{1000 * setup['launch'][0]:.0f} ms, {setup['launch'][1]:.2f} CPU s; context "
        f"{1000 * setup['context'][0]:.0f} ms, {setup['context'][1]:.2f} CPU s | |",
        f"| peak browser PSS, c=4: hogfleet vs naive | {by_c[4].peak_pss_mb:.0f} vs "
        f"{naive4.peak_pss_mb:.0f} MB | |",
        f"| best fixed level | {top.name}: {top.per_min:.1f}/min | |",
    ]
    if adaptive is not None:
        lines.append(f"| adaptive concurrency | {adaptive.per_min:.1f}/min, p95 {adaptive.p95_s:.2f} s | |")
    lines += [
        f"| peak browser RSS, c={levels[0]} → c={levels[-1]} | {one.peak_rss_mb:.0f} → "
        f"{by_c[levels[-1]].peak_rss_mb:.0f} MB | |",
        f"| memory per extra concurrent context (peak, c={levels[0]} → c={levels[-1]}) | PSS "
        f"{pss_extra:.0f} MB (summed RSS {rss_extra:.0f} MB); naive, per extra concurrent session: PSS "
        f"{(naive4.peak_pss_mb - naive1.peak_pss_mb) / 3:.0f} MB | ≤ 100 MB |",
        f"| fleet's Python CPU share, c=4 | {100 * cpu4.get('python', 0) / total4:.1f}% "
        f"(driver {100 * cpu4.get('driver', 0) / total4:.0f}%, "
        f"Chromium {100 * cpu4.get('browser', 0) / total4:.0f}%, "
        f"demo {100 * cpu4.get('demo', 0) / total4:.0f}%) | ≤ 10% |",
        f"| identity restore, context open (median) | playwright {1000 * micro['playwright']:.0f} ms, "
        f"cheap {1000 * micro['cheap']:.0f} ms | |",
        f"| identity restore, c=4 sessions/min | playwright {restore_pw.per_min:.1f}, "
        f"cheap {restore_cheap.per_min:.1f} | |",
        f"| trace, c=4 sessions/min (all ok) | retain-on-failure {trace_rof.per_min:.1f}, "
        f"on-first-retry {trace_ofr.per_min:.1f}, off {trace_off.per_min:.1f} | |",
        f"| trace size per failed session | retain-on-failure {mean(rof_sizes) / 1e6:.2f} MB "
        f"({len(rof_sizes)} zips), on-first-retry {mean(ofr_sizes) / 1e6:.2f} MB "
        f"({len(ofr_sizes)} zips) | ≤ 1 MB |",
        f"| wall time of {n_fail} failing sessions | retain-on-failure {rof_span:.1f} s, "
        f"on-first-retry {ofr_span:.1f} s | |",
        f"| asset blocking, c=4 sessions/min | off {restore_cheap.per_min:.1f}, on {blocked.per_min:.1f} | |",
        f"| browser PSS between sessions, c=1: after session 2 → after session {n_rec} | no recycling "
        f"{base_no:.0f} → {end_no:.0f} MB ({pct_change(base_no, end_no)}); recycle_every={every} "
        f"{base_yes:.0f} → {end_yes:.0f} MB ({pct_change(base_yes, end_yes)}) | within 10% |",
        f"| planner, {big:,} personas | step {step_s:.1f} s, plan {plan_s:.1f} s ({planned:,} sessions) | |",
    ]
    if real_section:
        lines += ["", *real_section]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=24, help="sessions per measured level")
    ap.add_argument("--quick", action="store_true", help="fewer levels and sessions (a smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    ap.add_argument(
        "--real-build",
        type=Path,
        default=REAL_BUILD,
        metavar="DIR",
        help="a HogFlix production build to compare with the demo's pages (default: ../shared/hogflix/dist)",
    )
    ap.add_argument(
        "--real-concurrency",
        type=int,
        default=4,
        metavar="N",
        help="the concurrency (≥ 2) both sites are compared at, next to c=1 (default 4)",
    )
    ap.add_argument(
        "--real-build-only",
        action="store_true",
        help="run only the real-build comparison and rewrite only its section of --out",
    )
    args = ap.parse_args()
    if args.real_concurrency < 2:
        ap.error("--real-concurrency must be at least 2 (memory per extra context needs two levels)")
    args.real_build = args.real_build.resolve()
    has_build = (args.real_build / "index.html").is_file()
    if not has_build:
        print(f"real HogFlix build: skipped, no index.html in {args.real_build}", flush=True)
        if args.real_build_only:
            return
    if args.quick:
        args.sessions = min(args.sessions, 8)
    args.personas = args.sessions
    args.load = os.getloadavg()[0]
    sampler = Sampler()
    sampler.start()
    with tempfile.TemporaryDirectory(prefix="hogfleet-bench-") as tmp_s:
        tmp = Path(tmp_s)
        os.environ["HOGFLEET_STORAGE_DIR"] = str(tmp / "ss")
        demo = DemoProcess(tmp / "demo")
        real_demo = DemoProcess(tmp / "real-demo", frontend=args.real_build) if has_build else None
        base_url = demo.start()
        try:
            real_url = real_demo.start() if real_demo is not None else None
            lines = asyncio.run(main_async(args, tmp, base_url, sampler, real_url))
        finally:
            if real_demo is not None:
                real_demo.stop()
            demo.stop()
            sampler.stop()
    if args.real_build_only and args.out.exists():
        # Keep the rest of the file (the last full run's figures); replace this section alone.
        kept = args.out.read_text(encoding="utf-8").split(REAL_HEADING)[0].rstrip("\n")
        lines = [kept, "", *lines] if kept else lines
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
