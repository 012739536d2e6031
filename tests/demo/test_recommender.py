"""FlixBuddy answers deterministically from genres and keywords in the question."""

from __future__ import annotations

from demo.catalog import get_catalog
from demo.recommender import detect_genres, recommend


def test_keywords_map_to_genres() -> None:
    assert detect_genres("something scary please") == ["Horror"]
    assert detect_genres("a funny movie") == ["Comedy"]
    assert detect_genres("robots in space") == ["Sci-Fi"]
    assert set(detect_genres("a romantic comedy")) == {"Comedy", "Romance"}
    assert detect_genres("hello there") == []


def test_three_titles_of_the_asked_genre_deterministically() -> None:
    cat = get_catalog()
    a = recommend(cat, "Something scary for tonight?")
    b = recommend(cat, "Something scary for tonight?")
    assert [t.id for t in a.titles] == [t.id for t in b.titles]
    assert len(a.titles) == 3
    assert all(t.genre == "Horror" for t in a.titles)
    assert a.genre == "Horror"
    assert all(t.name in a.reply for t in a.titles)


def test_follow_up_keeps_genre_and_skips_seen_titles() -> None:
    cat = get_catalog()
    first = recommend(cat, "a documentary please")
    seen = frozenset(t.id for t in first.titles)
    second = recommend(cat, "any others?", previous_genre=first.genre, already=seen)
    assert all(t.genre == "Documentary" for t in second.titles)
    assert not seen & {t.id for t in second.titles}


def test_series_and_unknown_questions() -> None:
    cat = get_catalog()
    series = recommend(cat, "a comedy series to binge")
    assert all(t.kind == "series" and t.genre == "Comedy" for t in series.titles)
    anything = recommend(cat, "surprise me")
    assert [t.id for t in anything.titles] == [t.id for t in cat.popular(3)]
