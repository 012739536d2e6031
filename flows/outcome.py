"""What a session did, in the units the persona model folds back (videos, ratings, …).

A model, not a dict: the ledger stores it as its ``counts`` (bots/records/ledger.py) and the fold
reads it back by attribute (bots/records/fold.py), so renaming a field is a type error in both
places, never a silent zero in the personas.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SessionOutcome(BaseModel):
    signed_up: bool = False
    logged_in: bool = False
    videos_opened: int = 0
    videos_watched: int = 0
    completions: list[float] = Field(default_factory=list)
    ratings_given: int = 0
    watchlist_added: int = 0
    flixbuddy_questions: int = 0
    support_tickets: int = 0
    plan_changed_to: str | None = None
    account_deleted: bool = False
    abandoned: bool = False
    error_path_taken: str | None = None
    # Steps the plan asked for that the site lacks, as "wanted->taken" (docs/site-contract.md).
    substitutions: list[str] = Field(default_factory=list)
    # A churned persona on a site without account deletion: logged out, account left to the site's
    # own cleanup of synthetic users.
    left_for_site_cleanup: bool = False
