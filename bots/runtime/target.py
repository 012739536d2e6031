"""Where the fleet points: the embedded demo (started for the run's length) or a URL.

The guard is deliberately strict: a host that is not loopback and not in ``allowed_hosts`` is
refused, and so is any target whose site profile declares no synthetic marking (the seed: never
run against production without synthetic flags). There is no flag that skips it.
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from flows.profile import SiteProfile, validate_base_url
from personas.errors import HogfleetError
from personas.store import atomic_write_bytes

log = logging.getLogger("hogfleet.target")
DEMO = "demo"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def guard(url: str, profile: SiteProfile, allowed_hosts: Sequence[str], unmarked_override: bool) -> str:
    base = validate_base_url(url)
    host = urlsplit(base).hostname or ""
    if not is_loopback(host) and host not in allowed_hosts:
        raise HogfleetError(
            f"target host {host!r} is not loopback and not in allowed_hosts "
            "(add it under [fleet] allowed_hosts in hogfleet.toml)"
        )
    if not profile.synthetic.enabled and not is_loopback(host):
        if not unmarked_override:
            raise HogfleetError(
                f"site profile {profile.name!r} declares no synthetic marking: refusing to send "
                f"unmarked traffic to {host} (set [fleet] allow_unmarked_traffic = true to override)"
            )
        log.warning("sending unmarked synthetic traffic to %s: allow_unmarked_traffic is set", host)
    return base


FRONTEND_ENV = "HOGFLEET_FRONTEND"


def resolve_frontend(flag: Path | None, target: str) -> Path | None:
    """The HogFlix build the embedded demo serves: ``--frontend``, else HOGFLEET_FRONTEND, else none
    (the demo's own pages)."""
    env = os.environ.get(FRONTEND_ENV)
    frontend = flag if flag is not None else (Path(env) if env else None)
    if frontend is None:
        return None
    if target != DEMO:
        if flag is None:
            return None  # the variable is the demo's; a URL target serves its own frontend
        raise HogfleetError("--frontend serves a build on the embedded demo: it goes with --target demo")
    if not (frontend / "index.html").is_file():
        raise HogfleetError(f"--frontend {frontend}: not a HogFlix production build (no index.html in it)")
    return frontend.resolve()


def check_reachable(base_url: str) -> None:
    """Fail fast, in one line, when the target cannot serve the fleet at all."""
    try:
        response = httpx.get(base_url + "/", timeout=10.0, follow_redirects=True)
    except httpx.ConnectError:
        raise HogfleetError(f"target {base_url} refuses connections") from None
    except httpx.HTTPError as exc:
        raise HogfleetError(f"target {base_url} is unreachable: {type(exc).__name__}") from None
    if response.status_code == 404:
        raise HogfleetError(f"target {base_url} answers 404 on / (wrong URL or site?)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_PR_SET_PDEATHSIG = 1


def _demo_preexec(parent: int) -> Callable[[], None]:
    def detach() -> None:
        # Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
        # sessions in flight must be able to finish their step against a live site; the fleet stops
        # the demo itself on the way out. If the fleet dies without doing so (SIGKILL), Linux sends
        # the demo SIGTERM (PR_SET_PDEATHSIG), so no orphan keeps the port and the database.
        os.setpgid(0, 0)
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        except (OSError, AttributeError):  # not Linux: the fleet's own stop() still applies
            return
        if os.getppid() != parent:  # the fleet died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return detach


PORT_WAIT_S = 10.0


def port_is_free(port: int) -> bool:
    """Whether the demo could listen on ``port`` now (bound as demo/server.py binds: SO_REUSEADDR,
    so connections of a stopped demo still in TIME_WAIT do not count as taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class DemoProcess:
    """The embedded demo in a child process, so its CPU is not the fleet's and tests can kill it.

    Its origin is stable per data dir: the first start picks a free port and keeps it in
    ``<data dir>/port``, and every later start serves on it again. localStorage is per origin, port
    included, and a real frontend keeps its login there (Supabase does): yesterday's storage state
    of a persona must apply to today's site, so the origin must not move. A port taken by another
    process is a one-line error naming the file, never a silent move to another origin.
    """

    PORT_FILE = "port"

    def __init__(self, data_dir: Path, faults: str | None = None, frontend: Path | None = None) -> None:
        self.data_dir = data_dir
        self.faults = faults
        self.frontend = frontend
        self.port = self._stable_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def _stable_port(self) -> int:
        path = self.data_dir / self.PORT_FILE
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            return free_port()
        except OSError as exc:
            raise HogfleetError(f"cannot read the demo's port file {path}: {exc.strerror}") from None
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise HogfleetError(
                f"the demo's port file {path} is corrupt ({text[:20]!r}); delete it to pick a new port"
            )
        port = int(text)
        # A demo of the previous run may still be shutting down (it gets SIGTERM when its fleet dies,
        # and uvicorn takes a few seconds to close): wait for it before calling the port taken.
        deadline = time.monotonic() + PORT_WAIT_S
        while not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not port_is_free(port):
            raise HogfleetError(
                f"port {port} of this state dir's demo ({path}) is taken by another process: stop it, "
                "or delete the file to move the demo (storage states of the old origin then start fresh)"
            )
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> str:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "demo", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--db", str(self.data_dir / "hogflix.db")]
        if self.faults:
            cmd += ["--faults", self.faults]
        if self.frontend is not None:
            cmd += ["--frontend", str(self.frontend)]
        log_file = (self.data_dir / "demo.log").open("ab")
        self.proc = subprocess.Popen(
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
            preexec_fn=_demo_preexec(os.getpid()),  # the fleet starts no threads before this
        )
        log_file.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HogfleetError(f"the demo exited at start (see {self.data_dir / 'demo.log'})")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    atomic_write_bytes(self.data_dir / self.PORT_FILE, f"{self.port}\n".encode())
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise HogfleetError(f"the demo did not answer within {timeout_s:g}s (see {self.data_dir}/demo.log)")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def open_target(
    target: str,
    profile: SiteProfile,
    state_dir: Path,
    allowed_hosts: Sequence[str] = (),
    unmarked_override: bool = False,
    faults: str | None = None,
    frontend: Path | None = None,
) -> Iterator[str]:
    """Yield the base URL to drive; the demo is started here and stopped on the way out."""
    if target == DEMO:
        demo = DemoProcess(state_dir / "demo", faults=faults, frontend=frontend)
        try:
            yield demo.start()
        finally:
            demo.stop()
        return
    base = guard(target, profile, allowed_hosts, unmarked_override)
    check_reachable(base)
    yield base
