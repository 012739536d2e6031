"""Fold what the browsers really did back into the personas (the next day's input).

Idempotent: each session id is folded once (the population remembers recent folded ids), so a
resumed run, or merging shard ledgers twice, never double-counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bots.records.ledger import DONE, LedgerRecord, day_records
from personas.models import Persona, Population
from personas.simulation import confirm_deletion
from personas.store import StateStore

FOLDED_MEMORY = 5000  # session ids remembered; far more than a few days of ~150 sessions


def _final_done(records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
    finals: dict[str, LedgerRecord] = {}
    for record in records:
        if record.outcome in DONE and record.session_id not in finals:
            finals[record.session_id] = record
    return list(finals.values())


def _apply(persona: Persona, record: LedgerRecord) -> None:
    # total_sessions and last_active belong to the simulation (its step counts planned visits);
    # what the browser really did lands in the engagement counters.
    counts = record.counts
    watched = counts.videos_watched
    completions = [c * 100 for c in counts.completions]
    if completions:
        total = persona.avg_watch_completion * persona.videos_watched + sum(completions)
        persona.avg_watch_completion = round(
            min(100.0, total / (persona.videos_watched + len(completions))), 2
        )
    persona.videos_watched += watched
    persona.ratings_given += counts.ratings_given
    persona.watchlist_size += counts.watchlist_added
    persona.flixbuddy_conversations += 1 if counts.flixbuddy_questions else 0
    persona.signed_up_on_site = True
    persona.db_initialized = True
    site_ids = [d for d in record.distinct_ids if d.startswith("usr_")]
    if site_ids:
        persona.user_id = site_ids[-1]


def fold(population: Population, records: Iterable[LedgerRecord]) -> tuple[Population, int]:
    folded = set(population.folded_sessions)
    by_id = {p.distinct_id: p for p in population.personas}
    applied = 0
    # A fixed order (deletions first, as planned; then by session id), not the ledgers' finish order:
    # merging shard ledgers gives byte for byte the personas.json an unsharded run gives.
    for record in sorted(_final_done(records), key=lambda r: (r.kind != "deletion", r.session_id)):
        if record.session_id in folded:
            continue
        if record.kind == "deletion":
            population = confirm_deletion(population, record.persona)
            by_id = {p.distinct_id: p for p in population.personas}
        elif record.persona in by_id:
            _apply(by_id[record.persona], record)
        folded.add(record.session_id)
        population.folded_sessions.append(record.session_id)
        applied += 1
    population.folded_sessions = population.folded_sessions[-FOLDED_MEMORY:]
    return population, applied


def fold_day(store: StateStore, date: dt.date) -> int:
    """Fold every done session of ``date`` (all ledgers, shards included) into personas.json."""
    population = store.load_population()
    population, applied = fold(population, day_records(store.root, date))
    if applied:
        store.save_population(population)
    return applied
