"""HogFlix's catalog: ~200 movies and series, generated deterministically (Faker with a fixed seed).

Names are built from genre-flavoured words ("Midnight Haunting", "Galaxy Protocol") so searching for a
mood or genre finds something meaningful, and FlixBuddy's keyword rules have material to work with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from faker import Faker

GENRES: tuple[str, ...] = (
    "Action",
    "Comedy",
    "Drama",
    "Sci-Fi",
    "Thriller",
    "Documentary",
    "Family",
    "Horror",
    "Romance",
    "Animation",
)

CATALOG_SEED = 20240611
CATALOG_SIZE = 200
CURRENT_YEAR = 2025  # fixed, so the catalog never depends on the wall clock

# Words that make a title (and its description) recognisably belong to its genre.
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "Action": (
        "Strike",
        "Fury",
        "Bullet",
        "Chase",
        "Vendetta",
        "Siege",
        "Blast",
        "Commando",
        "Rampage",
        "Heist",
    ),
    "Comedy": (
        "Mix-Up",
        "Shenanigans",
        "Party",
        "Blunder",
        "Prank",
        "Goofball",
        "Road Trip",
        "Wedding",
        "Hiccup",
    ),
    "Drama": ("Silence", "Promise", "Letters", "Inheritance", "Winter", "Reckoning", "Homecoming", "Verdict"),
    "Sci-Fi": ("Galaxy", "Protocol", "Android", "Nebula", "Quantum", "Starship", "Orbit", "Cyborg", "Mars"),
    "Thriller": ("Conspiracy", "Alibi", "Witness", "Vanishing", "Cipher", "Deadline", "Stranger", "Mystery"),
    "Documentary": ("Planet", "Oceans", "Untold Story", "Inside", "Wild", "History", "Chronicles", "Nature"),
    "Family": ("Puppy", "Treehouse", "Holiday", "Adventure", "Grandma", "Summer Camp", "Pony", "Magic"),
    "Horror": ("Haunting", "Curse", "Nightmare", "Possession", "Crypt", "Ghost", "Slasher", "Shadows"),
    "Romance": ("Love", "Kiss", "Heart", "Paris", "Wedding Season", "Sweetheart", "Valentine", "Serenade"),
    "Animation": ("Cartoon", "Dragon", "Robot Pals", "Toy", "Kingdom", "Critters", "Sky Pirates", "Doodle"),
}

GENRE_BLURBS: dict[str, tuple[str, ...]] = {
    "Action": ("an explosive action ride", "non-stop fights and car chases", "a high-octane mission"),
    "Comedy": ("a laugh-out-loud comedy", "a funny, feel-good romp", "hilarious chaos"),
    "Drama": ("an emotional drama", "a moving story of family and loss", "a quiet, powerful character study"),
    "Sci-Fi": ("a science fiction epic in space", "a mind-bending trip to the future", "robots and aliens"),
    "Thriller": ("a tense thriller full of suspense", "a twisty mystery", "a paranoid conspiracy thriller"),
    "Documentary": (
        "a documentary about the real world",
        "a true story told by those who lived it",
        "nature",
    ),
    "Family": ("a heart-warming family film for kids", "fun for all ages", "a cosy family adventure"),
    "Horror": ("a terrifying horror story", "a scary, spooky night", "a ghost story that will haunt you"),
    "Romance": ("a sweeping romance", "a romantic love story", "a charming romantic comedy of the heart"),
    "Animation": (
        "an animated adventure",
        "a colourful cartoon for the whole family",
        "hand-drawn animation",
    ),
}

_ADJECTIVES = (
    "Last",
    "Lost",
    "Silent",
    "Broken",
    "Golden",
    "Midnight",
    "Secret",
    "Endless",
    "Wild",
    "Hidden",
)

Kind = Literal["movie", "series"]


@dataclass(frozen=True)
class Episode:
    number: int
    name: str
    duration_s: int


@dataclass(frozen=True)
class Title:
    id: str
    name: str
    kind: Kind
    genre: str
    year: int
    duration_s: int  # the movie's runtime, or the first episode's for a series
    popularity: float  # 0-100
    description: str
    hue: int  # poster gradient colour, so cards are recognisable without any image asset
    episodes: tuple[Episode, ...] = field(default=())

    def episode(self, number: int) -> Episode | None:
        for ep in self.episodes:
            if ep.number == number:
                return ep
        return None

    def duration_for(self, episode: int | None) -> int:
        if self.kind == "series":
            ep = self.episode(episode or 1)
            return ep.duration_s if ep else self.episodes[0].duration_s
        return self.duration_s

    @property
    def runtime_label(self) -> str:
        if self.kind == "series":
            return f"{len(self.episodes)} episodes"
        return f"{self.duration_s // 3600}h {self.duration_s % 3600 // 60}m"


def _make_name(fake: Faker, rng: random.Random, genre: str, taken: set[str]) -> str:
    words = GENRE_WORDS[genre]
    while True:
        word = rng.choice(words)
        pattern = rng.randrange(6)
        if pattern == 0:
            name = f"The {word}"
        elif pattern == 1:
            name = f"{fake.last_name()}'s {word}"
        elif pattern == 2:
            name = f"{word} in {fake.city()}"
        elif pattern == 3:
            name = f"{rng.choice(_ADJECTIVES)} {word}"
        elif pattern == 4:
            name = f"{word} {rng.choice(('Rising', 'Returns', 'Forever', 'Protocol', 'Night', 'Code'))}"
        else:
            name = f"The {fake.safe_color_name().capitalize()} {word}"
        if name not in taken:
            taken.add(name)
            return name
        # A clash gets a sequel number rather than looping forever on a small word list.
        for n in range(2, 10):
            numbered = f"{name} {n}"
            if numbered not in taken:
                taken.add(numbered)
                return numbered


def _generate(seed: int = CATALOG_SEED, size: int = CATALOG_SIZE) -> tuple[Title, ...]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    taken: set[str] = set()
    titles: list[Title] = []
    for i in range(size):
        # Round-robin genres so every genre row and category page has ~20 titles.
        genre = GENRES[i % len(GENRES)]
        name = _make_name(fake, rng, genre, taken)
        kind: Kind = "series" if rng.random() < 0.3 else "movie"
        year = (
            rng.randint(1985, CURRENT_YEAR)
            if rng.random() < 0.7
            else rng.randint(CURRENT_YEAR - 2, CURRENT_YEAR)
        )
        blurb = rng.choice(GENRE_BLURBS[genre])
        description = f"{name}: {blurb}. {fake.sentence(nb_words=12)}"
        hue = rng.randrange(360)
        popularity = round(rng.uniform(5, 100), 1)
        tid = f"t{i + 1:03d}"
        if kind == "series":
            count = rng.randint(3, 10)
            eps = tuple(
                Episode(n, f"Episode {n}: {fake.catch_phrase()}", rng.randint(20, 60) * 60)
                for n in range(1, count + 1)
            )
            titles.append(
                Title(tid, name, kind, genre, year, eps[0].duration_s, popularity, description, hue, eps)
            )
        else:
            duration = rng.randint(80, 150) * 60
            titles.append(Title(tid, name, kind, genre, year, duration, popularity, description, hue))
    return tuple(titles)


class Catalog:
    def __init__(self, titles: tuple[Title, ...]) -> None:
        self.titles = titles
        self._by_id = {t.id: t for t in titles}

    def __len__(self) -> int:
        return len(self.titles)

    def get(self, title_id: str) -> Title | None:
        return self._by_id.get(title_id)

    def popular(self, n: int = 12) -> list[Title]:
        return sorted(self.titles, key=lambda t: (-t.popularity, t.id))[:n]

    def new_releases(self, n: int = 12) -> list[Title]:
        return sorted(self.titles, key=lambda t: (-t.year, -t.popularity, t.id))[:n]

    def by_genre(self, genre: str, n: int | None = None) -> list[Title]:
        found = sorted((t for t in self.titles if t.genre == genre), key=lambda t: (-t.popularity, t.id))
        return found if n is None else found[:n]

    def genre_named(self, name: str) -> str | None:
        for g in GENRES:
            if g.lower() == name.strip().lower():
                return g
        return None

    def search(self, query: str) -> list[Title]:
        """Titles whose name, genre or description contains every word of the query (case-insensitive)."""
        words = query.lower().split()
        if not words:
            return []
        hits = [
            t for t in self.titles if all(w in f"{t.name} {t.genre} {t.description}".lower() for w in words)
        ]
        # Name matches first: someone typing a title expects it on top.
        q = query.strip().lower()
        return sorted(hits, key=lambda t: (q not in t.name.lower(), -t.popularity, t.id))

    def related(self, title: Title, n: int = 6) -> list[Title]:
        return [t for t in self.by_genre(title.genre) if t.id != title.id][:n]


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    return Catalog(_generate())
