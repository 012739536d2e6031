"""FlixBuddy: a deterministic, rule-based recommender over genres and keywords.

The same question in the same conversation always yields the same three titles, so the fleet's journeys
and the tests can rely on the answers. A follow-up question without a genre keeps the conversation's
genre and skips titles already recommended ("something else?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from demo.catalog import GENRE_WORDS, GENRES, Catalog, Title

# Everyday words that point at a genre.
GENRE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "fight", "explosion", "explosive", "chase", "adrenaline", "heist", "spy", "martial"),
    "Comedy": ("comedy", "funny", "laugh", "hilarious", "lighthearted", "silly", "humor", "humour", "joke"),
    "Drama": ("drama", "emotional", "moving", "serious", "cry", "tearjerker", "powerful"),
    "Sci-Fi": (
        "sci-fi",
        "scifi",
        "science fiction",
        "space",
        "future",
        "robot",
        "alien",
        "galaxy",
        "time travel",
    ),
    "Thriller": ("thriller", "suspense", "mystery", "twist", "tense", "crime", "detective", "conspiracy"),
    "Documentary": ("documentary", "docu", "true story", "real", "nature", "history", "learn", "educational"),
    "Family": ("family", "kids", "children", "child", "all ages", "wholesome"),
    "Horror": (
        "horror",
        "scary",
        "spooky",
        "creepy",
        "ghost",
        "haunted",
        "terrifying",
        "halloween",
        "zombie",
    ),
    "Romance": ("romance", "romantic", "love", "date night", "valentine", "kiss", "rom-com"),
    "Animation": ("animation", "animated", "cartoon", "anime", "pixar"),
}

SERIES_WORDS = ("series", "show", "episodes", "binge", "season")
MOVIE_WORDS = ("movie", "film")
SHORT_WORDS = ("short", "quick", "tonight", "under two hours")
NEW_WORDS = ("new", "recent", "latest", "fresh")


@dataclass(frozen=True)
class Recommendation:
    reply: str
    titles: list[Title]
    genre: str | None


def detect_genres(text: str) -> list[str]:
    lowered = text.lower()
    found: list[str] = []
    for genre in GENRES:
        keys = (*GENRE_KEYWORDS[genre], *(w.lower() for w in GENRE_WORDS[genre]))
        if any(re.search(rf"\b{re.escape(k)}", lowered) for k in keys) and genre not in found:
            found.append(genre)
    return found


def recommend(
    catalog: Catalog,
    question: str,
    *,
    previous_genre: str | None = None,
    already: frozenset[str] = frozenset(),
    n: int = 3,
) -> Recommendation:
    lowered = question.lower()
    genres = detect_genres(question)
    if not genres and previous_genre:
        genres = [previous_genre]
    pool = [t for t in catalog.titles if not genres or t.genre in genres]
    if any(w in lowered for w in SERIES_WORDS):
        pool = [t for t in pool if t.kind == "series"] or pool
    elif any(re.search(rf"\b{w}", lowered) for w in MOVIE_WORDS):
        pool = [t for t in pool if t.kind == "movie"] or pool
    if any(w in lowered for w in SHORT_WORDS):
        pool = [t for t in pool if t.duration_s <= 100 * 60] or pool

    fresh = [t for t in pool if t.id not in already]
    # When everything has been recommended, start over rather than answer with nothing.
    pool = fresh or pool
    if any(re.search(rf"\b{w}\b", lowered) for w in NEW_WORDS):
        ranked = sorted(pool, key=lambda t: (-t.year, -t.popularity, t.id))
    else:
        ranked = sorted(pool, key=lambda t: (-t.popularity, t.id))
    picks = ranked[:n]

    names = ", ".join(f"{t.name} ({t.year})" for t in picks)
    if genres:
        label = " and ".join(genres)
        reply = f"If you're in the mood for {label}, try these: {names}."
    else:
        reply = f"Here are some of the most popular titles on HogFlix right now: {names}."
    return Recommendation(reply, picks, genres[0] if genres else None)
