"""What a session did, in the units the persona model folds back (videos, ratings, …)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SessionOutcome:
    signed_up: bool = False
    logged_in: bool = False
    videos_opened: int = 0
    videos_watched: int = 0
    completions: list[float] = field(default_factory=list)
    ratings_given: int = 0
    watchlist_added: int = 0
    flixbuddy_questions: int = 0
    support_tickets: int = 0
    plan_changed_to: str | None = None
    account_deleted: bool = False
    abandoned: bool = False
    error_path_taken: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)
