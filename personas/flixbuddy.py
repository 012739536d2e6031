"""What a persona asks FlixBuddy: docs/behaviour.md's eight templates, with variations, and follow-ups."""

from __future__ import annotations

import random

from personas.config import BehaviourConfig

_OPENERS = ("", "", "Hi! ", "Hey FlixBuddy, ", "Quick question: ")
_CLOSERS = ("", "", "", " Something not too long.", " Ideally something recent.", " For tonight.")


def favourite_genre(rng: random.Random, affinities: dict[str, float], genres: tuple[str, ...]) -> str:
    """A genre drawn by affinity (falls back to uniform when the persona has none)."""
    weights = [max(0.0, affinities.get(g, 0.0)) for g in genres]
    if sum(weights) <= 0:
        return genres[int(rng.random() * len(genres))]
    return rng.choices(genres, weights=weights, k=1)[0]


def questions(rng: random.Random, affinities: dict[str, float], config: BehaviourConfig) -> tuple[str, ...]:
    """One to ``max_questions`` messages for one conversation."""
    fb = config.flixbuddy
    if rng.random() < fb.affinity_question:
        genre = favourite_genre(rng, affinities, config.genres)
        first = config.flixbuddy_genre_template.format(genre=genre)
    else:
        first = config.flixbuddy_templates[int(rng.random() * len(config.flixbuddy_templates))]
    opener = _OPENERS[int(rng.random() * len(_OPENERS))]
    closer = _CLOSERS[int(rng.random() * len(_CLOSERS))]
    if opener and first:
        first = first[0].lower() + first[1:] if not first.startswith("I") else first
    out = [f"{opener}{first}{closer}"]
    while len(out) < fb.max_questions and rng.random() < fb.follow_up:
        out.append(config.flixbuddy_follow_ups[int(rng.random() * len(config.flixbuddy_follow_ups))])
    return tuple(out)
