"""A full disk while saving state: the previous file stays intact and the error is one clear line."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.records.ledger import Ledger
from bots.records.storage import StorageStates
from personas.errors import HogfleetError
from personas.store import atomic_write_bytes
from tests.reliability.conftest import DAY1, Fleet

OLD = b'{"cookies": [], "origins": []}'


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("layer", ["fsync", "write", "mkstemp", "replace"])
def test_enospc_at_the_write_layer_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layer: str
) -> None:
    path = tmp_path / "personas.json"
    path.write_bytes(OLD)
    if layer == "fsync":
        monkeypatch.setattr(os, "fsync", _enospc)
    elif layer == "write":
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: _Full(fd))
    elif layer == "mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", _enospc)
    else:
        monkeypatch.setattr(os, "replace", _enospc)
    with pytest.raises(HogfleetError) as info:
        atomic_write_bytes(path, b"{}" * 1000)
    assert str(info.value) == f"no space left on device while writing {path}"
    assert path.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["personas.json"], "a temp file was left"


class _Full:
    """A file object whose write hits a full disk."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_storage_state_save_on_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StorageStates(tmp_path / "ss")
    store.save("p_00001_1", {"cookies": [], "origins": []})
    old = store.path("p_00001_1").read_bytes()
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(HogfleetError, match=r"no space left on device while writing .*p_00001_1\.json"):
        store.save("p_00001_1", {"cookies": [], "origins": [{"origin": "http://x", "localStorage": []}]})
    assert store.path("p_00001_1").read_bytes() == old


def test_ledger_append_on_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(os, "fsync", _enospc)
    from tests.bots.test_runtime_units import _record

    with pytest.raises(HogfleetError, match=r"no space left on device while writing .*ledger\.jsonl"):
        Ledger(tmp_path / "ledger.jsonl").append(_record("s1", "ok"))


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (needs CAP_SYS_ADMIN: root here and in CI; skipped elsewhere)."""
    mnt = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_disk_keeps_the_old_state_and_says_so(tiny_fs: Path) -> None:
    store = StorageStates(tiny_fs / "ss")
    store.save("p_00001_1", {"cookies": [], "origins": []})
    old = store.path("p_00001_1").read_bytes()
    big = {
        "cookies": [],
        "origins": [{"origin": "http://x", "localStorage": [{"name": "k", "value": "v" * 200_000}]}],
    }
    with pytest.raises(HogfleetError, match="no space left on device while writing"):
        store.save("p_00001_1", big)
    assert store.path("p_00001_1").read_bytes() == old
    assert [p.name for p in (tiny_fs / "ss").iterdir()] == ["p_00001_1.json"]


def test_cli_on_a_full_disk_is_one_line_exit_2(tiny_fs: Path, tmp_path: Path) -> None:
    fleet = Fleet(tmp_path / "cli", pool=6)
    fleet.root.mkdir()
    state = tiny_fs / "state"
    filler = tiny_fs / "filler"
    # Leave too little room for the population file.
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * (60 * 1024))
    done = fleet.run("plan", "--date", DAY1.isoformat(), "--state-dir", str(state), state=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: no space left on device while writing {state}/"), lines[0]
