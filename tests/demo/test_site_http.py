"""The site over HTTP (httpx against a served app): sessions, redirects, and who may touch what."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from analytics.testing import serve_in_thread
from demo.app import SESSION_COOKIE, create_app
from demo.db import Database, hash_password, verify_password
from demo.settings import DemoConfigError, DemoSettings, load_or_create_secret

PASSWORD = "correct horse battery"


@dataclass
class Site:
    url: str
    db: Database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    app = create_app(DemoSettings(db_path=root / "app.sqlite3"))
    with serve_in_thread(app) as url:
        yield Site(url, app.state.site.db)


def new_user(site: Site, plan: str = "Standard") -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=site.url)
    email = f"u-{secrets.token_hex(4)}@example.com"
    resp = client.post("/signup", data={"email": email, "password": PASSWORD, "plan": plan})
    assert resp.status_code == 303, resp.text
    me = client.get("/api/me").json()
    assert me["email"] == email
    return client, me["id"]


def test_pages_render_for_anonymous_visitors(site: Site) -> None:
    with httpx.Client(base_url=site.url) as client:
        for path in (
            "/",
            "/search",
            "/search?q=space",
            "/categories",
            "/category/Horror",
            "/title/t001",
            "/flixbuddy",
            "/signup",
            "/login",
        ):
            resp = client.get(path)
            assert resp.status_code == 200, path
            assert 'data-testid="nav-home"' in resp.text and 'data-user=""' in resp.text
        assert client.get("/title/t999").status_code == 404
        assert client.get("/category/Westerns").status_code == 404
        assert 'data-testid="search-empty"' in client.get("/search?q=zzqqxx").text


@pytest.mark.parametrize("path", ["/watchlist", "/account", "/watch/t001", "/support"])
def test_private_pages_redirect_to_login(site: Site, path: str) -> None:
    with httpx.Client(base_url=site.url) as client:
        resp = client.get(path)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/login?next=")
        assert client.get("/api/watchlist").status_code == 401
        assert client.post("/api/flixbuddy", json={"message": "hi"}).status_code == 401


def test_session_cookie_is_signed_httponly_and_lax(site: Site) -> None:
    client, _ = new_user(site)
    with closing(client):
        cookie = client.get("/account").headers.get("set-cookie", "")
        assert cookie.startswith(SESSION_COOKIE + "=")
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered
    with httpx.Client(base_url=site.url) as forger:
        forger.cookies.set(SESSION_COOKIE, "eyJ1aWQiOiAidXNyX3gifQ==.forged.sig")
        assert forger.get("/account").status_code == 303


def test_passwords_are_hashed() -> None:
    stored = hash_password(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored)
    assert not verify_password("wrong", stored)
    assert not verify_password(PASSWORD, "garbage")


def test_signup_and_login_errors_show_the_form(site: Site) -> None:
    client, _ = new_user(site)
    email = client.get("/api/me").json()["email"]
    with httpx.Client(base_url=site.url) as other:
        dup = other.post("/signup", data={"email": email, "password": PASSWORD, "plan": "Basic"})
        assert dup.status_code == 200 and 'data-testid="form-error"' in dup.text
        short = other.post("/signup", data={"email": "x@example.com", "password": "short", "plan": "Basic"})
        assert 'data-testid="form-error"' in short.text
        bad = other.post("/login", data={"email": email, "password": "not the password"})
        assert bad.status_code == 200 and 'data-testid="form-error"' in bad.text
        good = other.post(
            "/login", data={"email": email.upper(), "password": PASSWORD, "next": "//evil.example"}
        )
        assert good.status_code == 303 and good.headers["location"] == "/"
    client.close()


def test_one_user_cannot_touch_anothers_data(site: Site) -> None:
    alice, alice_id = new_user(site)
    bob, bob_id = new_user(site)
    with closing(alice), closing(bob):
        assert alice.post("/api/watchlist", json={"title_id": "t010", "action": "add"}).status_code == 200
        chat = alice.post("/api/flixbuddy", json={"message": "something funny"}).json()
        conv = chat["conversation_id"]
        assert len(chat["recommendations"]) == 3

        # Bob sees only his own (empty) watchlist, and removing "t010" only touches his rows.
        assert bob.get("/api/watchlist").json() == {"title_ids": []}
        assert (
            bob.post("/api/watchlist", json={"title_id": "t010", "action": "remove"}).json()["changed"]
            is False
        )
        assert alice.get("/api/watchlist").json() == {"title_ids": ["t010"]}
        # Alice's conversation is invisible to Bob, by page, by API, and as a place to post.
        assert bob.get(f"/api/flixbuddy/{conv}").status_code == 404
        assert bob.get(f"/flixbuddy?c={conv}").status_code == 404
        assert bob.post("/api/flixbuddy", json={"conversation_id": conv, "message": "hi"}).status_code == 404
        assert len(alice.get(f"/api/flixbuddy/{conv}").json()["messages"]) == 2
        # Deleting "the account" deletes Bob's, never Alice's.
        assert bob.post("/account/delete").status_code == 303
        assert site.db.get_user(bob_id) is None
        assert site.db.get_user(alice_id) is not None
        assert alice.get("/api/me").json()["id"] == alice_id
        assert bob.get("/api/me").status_code == 401


def test_account_deletion_removes_every_row(site: Site) -> None:
    client, uid = new_user(site, plan="Basic")
    with closing(client):
        client.post("/api/watchlist", json={"title_id": "t001", "action": "add"})
        client.post("/api/rating", json={"title_id": "t001", "rating": 5})
        client.post("/api/progress", json={"title_id": "t002", "episode": 1, "position_s": 60})
        client.post("/api/flixbuddy", json={"message": "space"})
        client.post("/support", data={"subject": "hi", "body": "help"})
        client.post("/account/plan", data={"plan": "Premium"})
        before = site.db.count_rows(uid)
        assert all(n > 0 for n in before.values()), before
        assert client.post("/account/delete").status_code == 303
        assert all(n == 0 for n in site.db.count_rows(uid).values())


def test_api_validates_input(site: Site) -> None:
    client, _ = new_user(site)
    with closing(client):
        assert client.post("/api/rating", json={"title_id": "t001", "rating": 6}).status_code == 400
        assert client.post("/api/rating", json={"title_id": "nope", "rating": 3}).status_code == 404
        assert client.post("/api/progress", content=b"not json").status_code == 400
        # Beacons send JSON as text/plain.
        beacon = client.post(
            "/api/progress",
            content=b'{"title_id": "t005", "position_s": 99999}',
            headers={"content-type": "text/plain"},
        )
        assert beacon.status_code == 200 and beacon.json()["position_s"] <= 150 * 60


def test_secret_file_is_private_and_reused(tmp_path: Path) -> None:
    db = tmp_path / "x" / "app.sqlite3"
    key = load_or_create_secret(db)
    path = db.with_name("app.sqlite3.secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(db) == key
    path.write_text("short")
    with pytest.raises(DemoConfigError, match="corrupt"):
        load_or_create_secret(db)


def test_settings_from_env(tmp_path: Path) -> None:
    s = DemoSettings.from_env(
        db_path=tmp_path / "a.sqlite3",
        environ={
            "HOGFLEET_DEMO_TOKEN": "phc_other",
            "HOGFLEET_DEMO_DISABLE_EVENTS": "search_performed, $pageview",
            "HOGFLEET_DEMO_FAULTS": "error=0.1,capture_error=0.2",
            "HOGFLEET_DEMO_SECRET": "s3cret" * 8,
        },
    )
    assert s.token == "phc_other"
    assert s.disabled_events == {"search_performed", "$pageview"}
    assert s.faults.error == 0.1 and s.capture_error_rate == 0.2
    assert s.events_path == tmp_path / "a.events.sqlite3"
    assert s.resolved_secret() == "s3cret" * 8
    with pytest.raises(DemoConfigError, match="HOGFLEET_POSTHOG_JS"):
        DemoSettings.from_env(
            db_path=tmp_path / "a.sqlite3", environ={"HOGFLEET_POSTHOG_JS": "/nonexistent.js"}
        )


def test_python_m_demo_serve_announces_url_and_stops(tmp_path: Path) -> None:
    env = {**os.environ, "HOGFLEET_DEMO_FAULTS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo", "serve", "--port", "0", "--db", str(tmp_path / "d.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("demo: serving http://127.0.0.1:"), line
        url = line.split()[-1]
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(url + "/healthz").text == "ok"
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode in (0, -15)
    bad = subprocess.run(
        [sys.executable, "-m", "demo", "serve", "--faults", "typo=1", "--db", str(tmp_path / "e.sqlite3")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "unknown fault 'typo'" in bad.stderr and "Traceback" not in bad.stderr
