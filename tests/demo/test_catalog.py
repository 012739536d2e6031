"""The catalog is generated deterministically and is searchable by name, genre and description."""

from __future__ import annotations

from demo.catalog import _ADJECTIVES, CATALOG_SIZE, GENRE_WORDS, GENRES, Catalog, _generate, get_catalog


def test_catalog_is_deterministic() -> None:
    a, b = _generate(), _generate()
    assert a == b
    assert [t.name for t in a] == [t.name for t in get_catalog().titles]


def test_other_seed_gives_other_catalog() -> None:
    assert [t.name for t in _generate(seed=1)] != [t.name for t in _generate()]


def test_shape_of_the_catalog() -> None:
    cat = get_catalog()
    assert len(cat) == CATALOG_SIZE
    assert {t.genre for t in cat.titles} == set(GENRES)
    assert len({t.id for t in cat.titles}) == len({t.name for t in cat.titles}) == CATALOG_SIZE
    movies = [t for t in cat.titles if t.kind == "movie"]
    series = [t for t in cat.titles if t.kind == "series"]
    assert movies and series
    assert all(80 * 60 <= t.duration_s <= 150 * 60 for t in movies)
    for s in series:
        assert s.episodes and [e.number for e in s.episodes] == list(range(1, len(s.episodes) + 1))
        assert all(20 * 60 <= e.duration_s <= 60 * 60 for e in s.episodes)
        assert s.duration_for(2) == s.episodes[1].duration_s if len(s.episodes) > 1 else True
    assert all(0 <= t.popularity <= 100 for t in cat.titles)
    # Every title name carries a word of its genre, so searching a mood finds the genre.
    for t in cat.titles:
        assert any(w in t.name for w in GENRE_WORDS[t.genre]), t.name
    assert "Last" in _ADJECTIVES


def test_search_matches_name_genre_and_description_case_insensitively() -> None:
    cat = get_catalog()
    some = cat.titles[17]
    assert some in cat.search(some.name.upper())
    assert {t.genre for t in cat.search("HORROR")} >= {"Horror"}
    assert len(cat.search("horror")) >= len(cat.by_genre("Horror"))
    sci = cat.search("space")
    assert sci and all("space" in f"{t.name} {t.genre} {t.description}".lower() for t in sci)
    assert cat.search("zzqqxx") == []
    assert cat.search("   ") == []
    # Name matches rank first.
    hits = cat.search("mars")
    assert hits and "mars" in hits[0].name.lower()


def test_rows_and_lookup() -> None:
    cat = get_catalog()
    popular = cat.popular(5)
    assert [t.popularity for t in popular] == sorted((t.popularity for t in popular), reverse=True)
    assert cat.new_releases(1)[0].year == max(t.year for t in cat.titles)
    assert cat.genre_named("sci-fi") == "Sci-Fi"
    assert cat.genre_named("westerns") is None
    assert cat.get("t001") is cat.titles[0]
    assert cat.get("nope") is None
    t = cat.titles[0]
    assert all(r.genre == t.genre and r.id != t.id for r in cat.related(t))
    assert isinstance(cat, Catalog)
