"""The HogFlix demo site: a Starlette app with server-rendered pages and the capture endpoint mounted.

Analytics events are emitted by the *frontend* only. When a POST (signup, login, plan change, ticket,
account deletion) must produce an event, the server puts it in the session as "pending" and the next
rendered page hands it to the browser, which captures it: the fleet then sees exactly what a real
frontend instrumentation would send.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from demo.catalog import GENRES, Catalog, Title, get_catalog
from demo.db import PLANS, Database, DuplicateEmail, User
from demo.faults import FaultMiddleware
from demo.recommender import recommend
from demo.settings import DemoSettings

if TYPE_CHECKING:
    from analytics.store import EventStore

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hogflix_session"
SESSION_MAX_AGE = 60 * 60 * 24 * 90  # long-lived personas come back weeks later, still logged in
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
POSTHOG_JS_URL = "/static/posthog-js/array.full.js"


class Site:
    """The request handlers, closed over one app's settings, database and catalog."""

    def __init__(self, settings: DemoSettings) -> None:
        self.settings = settings
        self.db = Database(settings.db_path)
        self.catalog: Catalog = get_catalog()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    # --- helpers -------------------------------------------------------------------------------------

    def user(self, request: Request) -> User | None:
        uid = request.session.get("uid")
        if not isinstance(uid, str):
            return None
        user = self.db.get_user(uid)
        if user is None:
            # The account is gone (deleted elsewhere): the stale session must not keep acting for it.
            request.session.pop("uid", None)
        return user

    def require_user(self, request: Request) -> User | Response:
        user = self.user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return user

    @staticmethod
    def queue_event(request: Request, event: str, properties: dict[str, Any] | None = None) -> None:
        pending = list(request.session.get("pending", []))
        pending.append({"event": event, "properties": properties or {}})
        request.session["pending"] = pending[-20:]

    @staticmethod
    def queue_reset(request: Request) -> None:
        pending = list(request.session.get("pending", []))
        pending.append({"reset": True})
        request.session["pending"] = pending[-20:]

    def render(
        self,
        request: Request,
        template: str,
        page: str,
        status: int = 200,
        user: User | None = None,
        **ctx: Any,
    ) -> Response:
        if user is None:
            user = self.user(request)
        pending = request.session.pop("pending", [])
        config = {
            "token": self.settings.token,
            "posthog_js": self.settings.posthog_js is not None,
            "disabled_events": sorted(self.settings.disabled_events),
            "pending": pending,
            "user": None if user is None else {"id": user.id, "plan": user.plan},
            "page": page,
        }
        context = {"user": user, "page": page, "page_config": config, "genres": GENRES, **ctx}
        response = self.templates.TemplateResponse(request, template, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def title_or_404(self, title_id: str) -> Title:
        title = self.catalog.get(title_id)
        if title is None:
            raise HTTPException(404, f"no title {title_id}")
        return title

    # --- pages ---------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        user = self.user(request)
        cont: list[tuple[Title, int]] = []
        if user is not None:
            for p in self.db.continue_watching(user.id):
                t = self.catalog.get(p.title_id)
                if t is not None:
                    cont.append((t, p.episode))
        rows = [(g, self.catalog.by_genre(g, 10)) for g in GENRES]
        popular = self.catalog.popular(12)
        return self.render(
            request,
            "home.html",
            "home",
            user=user,
            hero=popular[0],
            popular=popular,
            new=self.catalog.new_releases(12),
            continue_watching=cont,
            genre_rows=rows,
        )

    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()[:200]
        results = self.catalog.search(query) if query else []
        return self.render(request, "search.html", "search", query=query, results=results)

    async def categories(self, request: Request) -> Response:
        counts = {g: len(self.catalog.by_genre(g)) for g in GENRES}
        return self.render(request, "categories.html", "categories", counts=counts)

    async def category(self, request: Request) -> Response:
        genre = self.catalog.genre_named(request.path_params["genre"])
        if genre is None:
            raise HTTPException(404, "no such category")
        return self.render(
            request, "category.html", "category", genre=genre, titles=self.catalog.by_genre(genre)
        )

    async def title(self, request: Request) -> Response:
        title = self.title_or_404(request.path_params["title_id"])
        user = self.user(request)
        in_list = rating = None
        resume_ep = 1
        if user is not None:
            in_list = self.db.in_watchlist(user.id, title.id)
            rating = self.db.rating(user.id, title.id)
            for p in self.db.continue_watching(user.id, limit=100):
                if p.title_id == title.id:
                    resume_ep = p.episode or 1
        return self.render(
            request,
            "title.html",
            "title",
            user=user,
            title=title,
            in_watchlist=bool(in_list),
            rating=rating,
            resume_ep=resume_ep,
            related=self.catalog.related(title),
        )

    async def watch(self, request: Request) -> Response:
        title = self.title_or_404(request.path_params["title_id"])
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        episode = 0
        if title.kind == "series":
            try:
                episode = int(request.query_params.get("ep", "1"))
            except ValueError:
                episode = 1
            if title.episode(episode) is None:
                raise HTTPException(404, "no such episode")
        duration = title.duration_for(episode)
        start = 0
        saved = self.db.progress(user.id, title.id, episode)
        if saved is not None and not saved.finished:
            start = min(saved.position_s, duration)
        next_ep = episode + 1 if title.kind == "series" and title.episode(episode + 1) else None
        return self.render(
            request,
            "watch.html",
            "watch",
            user=user,
            title=title,
            episode=episode,
            duration=duration,
            start=start,
            next_ep=next_ep,
        )

    async def watchlist(self, request: Request) -> Response:
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        titles = [t for t in (self.catalog.get(i) for i in self.db.watchlist(user.id)) if t is not None]
        return self.render(request, "watchlist.html", "watchlist", user=user, titles=titles)

    async def flixbuddy(self, request: Request) -> Response:
        user = self.user(request)
        conversation_id = None
        messages: list[dict[str, Any]] = []
        cid = request.query_params.get("c")
        if user is not None and cid:
            if not self.db.owns_conversation(user.id, cid):
                raise HTTPException(404, "no such conversation")
            conversation_id = cid
            for m in self.db.messages(user.id, cid):
                recs = [t for t in (self.catalog.get(i) for i in m.recommendations) if t is not None]
                messages.append({"role": m.role, "content": m.content, "recommendations": recs})
        return self.render(
            request,
            "flixbuddy.html",
            "flixbuddy",
            user=user,
            conversation_id=conversation_id,
            messages=messages,
        )

    async def signup(self, request: Request) -> Response:
        nxt = _safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return self.render(
                request, "signup.html", "signup", error=None, email="", plan="Standard", next=nxt
            )
        form = await request.form()
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        plan = str(form.get("plan", ""))
        nxt = _safe_next(str(form.get("next", "")) or nxt)
        error = None
        if not EMAIL_RE.match(email) or len(email) > 254:
            error = "Please enter a valid email address."
        elif len(password) < MIN_PASSWORD:
            error = f"Password must be at least {MIN_PASSWORD} characters."
        elif plan not in PLANS:
            error = "Please choose a plan."
        if error is None:
            try:
                user = await run_in_threadpool(self.db.create_user, email, password, plan)
            except DuplicateEmail:
                error = "An account with this email already exists."
        if error is not None:
            return self.render(
                request, "signup.html", "signup", error=error, email=email, plan=plan, next=nxt
            )
        request.session.clear()
        request.session["uid"] = user.id
        self.queue_event(request, "signed_up", {"plan": plan})
        return RedirectResponse(nxt, status_code=303)

    async def login(self, request: Request) -> Response:
        nxt = _safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return self.render(request, "login.html", "login", error=None, email="", next=nxt)
        form = await request.form()
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        nxt = _safe_next(str(form.get("next", "")) or nxt)
        user = await run_in_threadpool(self.db.authenticate, email, password)
        if user is None:
            return self.render(
                request, "login.html", "login", error="Wrong email or password.", email=email, next=nxt
            )
        request.session.clear()  # a fresh session on login: no fixation of a pre-login session
        request.session["uid"] = user.id
        self.queue_event(request, "logged_in")
        return RedirectResponse(nxt, status_code=303)

    async def logout(self, request: Request) -> Response:
        request.session.clear()
        self.queue_reset(request)
        return RedirectResponse("/", status_code=303)

    async def account(self, request: Request) -> Response:
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        return self.render(request, "account.html", "account", user=user, plans=PLANS)

    async def account_plan(self, request: Request) -> Response:
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        form = await request.form()
        plan = str(form.get("plan", ""))
        if plan not in PLANS:
            return self.render(
                request, "account.html", "account", status=400, user=user, plans=PLANS, error="Unknown plan."
            )
        if plan != user.plan:
            previous = self.db.change_plan(user.id, plan)
            self.queue_event(request, "plan_changed", {"from_plan": previous, "to_plan": plan})
        return RedirectResponse("/account", status_code=303)

    async def account_delete(self, request: Request) -> Response:
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        self.db.delete_user(user.id)
        request.session.clear()
        # account_deleted is captured while the page still carries the deleted user's distinct_id.
        self.queue_event(request, "account_deleted")
        self.queue_reset(request)
        return RedirectResponse("/", status_code=303)

    async def support(self, request: Request) -> Response:
        user = self.require_user(request)
        if not isinstance(user, User):
            return user
        if request.method == "GET":
            ticket = None
            tid = request.query_params.get("ticket")
            if tid:
                ticket = self.db.ticket(user.id, tid)
            return self.render(request, "support.html", "support", user=user, ticket=ticket, error=None)
        form = await request.form()
        subject = str(form.get("subject", "")).strip()[:200]
        body = str(form.get("body", "")).strip()[:5000]
        if not subject or not body:
            return self.render(
                request,
                "support.html",
                "support",
                user=user,
                ticket=None,
                error="Please fill in a subject and a message.",
            )
        ticket_id = self.db.create_ticket(user.id, subject, body)
        self.queue_event(request, "support_ticket_created", {"ticket_id": ticket_id, "subject": subject})
        return RedirectResponse(f"/support?ticket={ticket_id}", status_code=303)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def posthog_js(self, request: Request) -> Response:
        assert self.settings.posthog_js is not None
        return FileResponse(self.settings.posthog_js, media_type="application/javascript")

    # --- JSON API (session required; acts only on the session's own user) ------------------------------

    def api_user(self, request: Request) -> User:
        user = self.user(request)
        if user is None:
            raise HTTPException(401, "login required")
        return user

    async def api_me(self, request: Request) -> Response:
        user = self.api_user(request)
        return JSONResponse({"id": user.id, "email": user.email, "plan": user.plan})

    async def api_watchlist(self, request: Request) -> Response:
        user = self.api_user(request)
        if request.method == "GET":
            return JSONResponse({"title_ids": self.db.watchlist(user.id)})
        data = await _json_body(request)
        title = self.title_or_404(str(data.get("title_id", "")))
        action = data.get("action", "add")
        if request.method == "DELETE" or action == "remove":
            changed = self.db.remove_from_watchlist(user.id, title.id)
            return JSONResponse({"title_id": title.id, "in_watchlist": False, "changed": changed})
        if action != "add":
            raise HTTPException(400, "action must be add or remove")
        changed = self.db.add_to_watchlist(user.id, title.id)
        return JSONResponse({"title_id": title.id, "in_watchlist": True, "changed": changed})

    async def api_rating(self, request: Request) -> Response:
        user = self.api_user(request)
        data = await _json_body(request)
        title = self.title_or_404(str(data.get("title_id", "")))
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise HTTPException(400, "rating must be an integer 1-5")
        self.db.rate(user.id, title.id, rating)
        return JSONResponse({"title_id": title.id, "rating": rating})

    async def api_progress(self, request: Request) -> Response:
        user = self.api_user(request)
        data = await _json_body(request)
        title = self.title_or_404(str(data.get("title_id", "")))
        try:
            episode = int(data.get("episode") or 0)
            position = int(float(data.get("position_s", 0)))
        except (TypeError, ValueError):
            raise HTTPException(400, "episode and position_s must be numbers") from None
        if title.kind == "series" and title.episode(episode) is None:
            raise HTTPException(400, "no such episode")
        duration = title.duration_for(episode)
        position = max(0, min(position, duration))
        self.db.save_progress(user.id, title.id, episode if title.kind == "series" else 0, position, duration)
        return JSONResponse({"title_id": title.id, "episode": episode, "position_s": position})

    async def api_flixbuddy(self, request: Request) -> Response:
        user = self.api_user(request)
        data = await _json_body(request)
        message = str(data.get("message", "")).strip()[:1000]
        if not message:
            raise HTTPException(400, "message is empty")
        conversation_id = data.get("conversation_id")
        previous_genre: str | None = None
        already: set[str] = set()
        if conversation_id:
            conversation_id = str(conversation_id)
            if not self.db.owns_conversation(user.id, conversation_id):
                raise HTTPException(404, "no such conversation")
            history = self.db.messages(user.id, conversation_id)
            for m in history:
                already.update(m.recommendations)
                if m.role == "assistant" and m.recommendations:
                    first = self.catalog.get(m.recommendations[0])
                    previous_genre = first.genre if first else previous_genre
            message_index = sum(1 for m in history if m.role == "user")
        else:
            conversation_id = self.db.create_conversation(user.id)
            message_index = 0
        rec = recommend(self.catalog, message, previous_genre=previous_genre, already=frozenset(already))
        ids = [t.id for t in rec.titles]
        self.db.add_message(user.id, conversation_id, "user", message, [])
        self.db.add_message(user.id, conversation_id, "assistant", rec.reply, ids)
        return JSONResponse(
            {
                "conversation_id": conversation_id,
                "message_index": message_index,
                "reply": rec.reply,
                "recommendations": [{"id": t.id, "name": t.name, "genre": t.genre} for t in rec.titles],
            }
        )

    async def api_conversation(self, request: Request) -> Response:
        user = self.api_user(request)
        cid = request.path_params["conversation_id"]
        if not self.db.owns_conversation(user.id, cid):
            raise HTTPException(404, "no such conversation")
        return JSONResponse(
            {
                "conversation_id": cid,
                "messages": [
                    {"role": m.role, "content": m.content, "recommendations": m.recommendations}
                    for m in self.db.messages(user.id, cid)
                ],
            }
        )

    async def api_account_delete(self, request: Request) -> Response:
        user = self.api_user(request)
        self.db.delete_user(user.id)
        request.session.clear()
        return JSONResponse({"deleted": user.id})

    # --- errors --------------------------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return self.render(
            request,
            "error.html",
            "error",
            status=exc.status_code,
            status_code=exc.status_code,
            detail=exc.detail,
        )


def _safe_next(value: str | None) -> str:
    # Only same-site paths: "//evil.example" and "/\\evil" would be open redirects.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def _json_body(request: Request) -> dict[str, Any]:
    # Beacons arrive as text/plain; parse the body as JSON whatever the declared type.
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise HTTPException(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data


def create_app(settings: DemoSettings) -> Starlette:
    from analytics.capture import capture_routes
    from analytics.store import EventStore

    site = Site(settings)
    store = EventStore(settings.events_path)
    capture = capture_routes(
        store,
        tokens={settings.token},
        capture_error=settings.capture_error_rate,
        rng_seed=settings.faults.seed,
    )
    if settings.frontend is not None:
        return _hogflix_app(settings, site, store, capture)
    routes: list[BaseRoute] = [
        Route("/", site.home),
        Route("/search", site.search),
        Route("/categories", site.categories),
        Route("/category/{genre}", site.category),
        Route("/title/{title_id}", site.title),
        Route("/watch/{title_id}", site.watch),
        Route("/watchlist", site.watchlist),
        Route("/flixbuddy", site.flixbuddy),
        Route("/signup", site.signup, methods=["GET", "POST"]),
        Route("/login", site.login, methods=["GET", "POST"]),
        Route("/logout", site.logout, methods=["GET", "POST"]),
        Route("/account", site.account),
        Route("/account/plan", site.account_plan, methods=["POST"]),
        Route("/account/delete", site.account_delete, methods=["POST"]),
        Route("/support", site.support, methods=["GET", "POST"]),
        Route("/healthz", site.healthz),
        Route("/api/me", site.api_me),
        Route("/api/watchlist", site.api_watchlist, methods=["GET", "POST", "DELETE"]),
        Route("/api/rating", site.api_rating, methods=["POST"]),
        Route("/api/progress", site.api_progress, methods=["POST"]),
        Route("/api/flixbuddy", site.api_flixbuddy, methods=["POST"]),
        Route("/api/flixbuddy/{conversation_id}", site.api_conversation),
        Route("/api/account", site.api_account_delete, methods=["DELETE"]),
    ]
    if settings.posthog_js is not None:
        routes.append(Route(POSTHOG_JS_URL, site.posthog_js))
    routes.extend(capture)
    routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    middleware = [
        # Outermost: a faulted request never reaches the session or the handlers.
        Middleware(FaultMiddleware, spec=settings.faults),
        Middleware(
            SessionMiddleware,
            secret_key=settings.resolved_secret(),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=False,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: site.http_error},
    )
    app.state.site = site
    app.state.event_store = store
    app.state.settings = settings
    return app


def _hogflix_app(
    settings: DemoSettings, site: Site, store: EventStore, capture: list[BaseRoute]
) -> Starlette:
    """The real HogFlix build on a local Supabase stand-in, instead of the server-rendered pages.

    The build's routes (/, /login, /signup, /watch/...) clash with the server-rendered site's, so it is
    one or the other. The root-level capture routes stay: the fleet reads `/api/events` and server-side
    SDKs post to `/e/` exactly as with the built-in site.
    """
    from demo.hogflix import hogflix_routes

    assert settings.frontend is not None
    routes: list[BaseRoute] = [
        Route("/healthz", site.healthz),
        *capture,
        *hogflix_routes(
            frontend=settings.frontend,
            db_path=settings.db_path,
            secret=settings.resolved_secret(),
            store=store,
            token=settings.token,
            capture_error=settings.capture_error_rate,
            rng_seed=settings.faults.seed,
        ),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, spec=settings.faults)])
    app.state.site = site
    app.state.event_store = store
    app.state.settings = settings
    return app
