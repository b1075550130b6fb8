"""A journal that cannot be written stops the run, and nothing is sent without its intent on
disk (#10 item 4).

The space runs out for real: in a subprocess whose file-size limit (RLIMIT_FSIZE, as `ulimit
-f` sets it) ends inside a chosen record, or on a tmpfs of a few pages mounted by the test
(root only). Each case checks: a clear message and exit code, no traceback; only whole records
on disk; every device that received a configuration line has its `change.intent` on disk; no
snapshot file that does not match its hash; and once there is room again, a re-run converges
and `restore --all` puts everything back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulated import LoginKey
from isolement.lab.emulator import Emulator
from journal_estate import BACKUP, INET, SPECS, WAN, Estate, running_estate, write_estate

EXIT_JOURNAL = 5
REPO = Path(__file__).resolve().parents[2]


def configured(emu: Emulator, name: str) -> bool:
    """Whether `name` received any line in (or into) configuration mode."""
    return any(
        "(config" in h.prompt or h.line.strip().startswith("conf") for h in emu.device(name).history
    )


def whole_records(journal: Path) -> list[dict[str, object]]:
    """Every line of the journal, each of which must be one whole JSON record."""
    if not journal.exists():
        return []
    data = journal.read_bytes()
    assert not data or data.endswith(b"\n"), f"a partial line was left: {data[-80:]!r}"
    return [json.loads(line) for line in data.decode().splitlines()]


def assert_stopped_cleanly(estate: Estate, code: int, err: str) -> None:
    assert code == EXIT_JOURNAL, err
    assert "Traceback" not in err
    assert "could not be written" in err, err
    records = whole_records(estate.journal)
    intents = {r["device"] for r in records if r["event"] == "change.intent"}
    assert estate.emu is not None
    for name in ("dc-rtr", "h2-rtr"):
        if configured(estate.emu, name):
            assert name in intents, f"{name} was sent a change whose intent is not on disk"
    snapshots = estate.journal.parent / "snapshots"
    for path in snapshots.iterdir() if snapshots.exists() else []:
        assert path.suffix == ".txt", f"left behind: {path.name}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, path


def assert_recovers(estate: Estate) -> None:
    """With room again: the re-run converges, and restore --all puts back exactly what was."""
    again = estate.cut()
    assert again.code == 0, again.text
    assert estate.emu is not None
    assert estate.emu.device("dc-rtr").is_shutdown(INET)
    restored = estate.restore()
    assert restored.code == 0, restored.text
    assert "nothing to do" not in restored.out.lower()
    for name in ("dc-rtr", "h2-rtr"):
        assert not estate.emu.device(name).is_shutdown(WAN)
    assert not estate.emu.device("dc-rtr").is_shutdown(INET)
    assert estate.emu.device("h2-rtr").is_shutdown(BACKUP)  # shut before the cut: stays shut


# --- where the records of a cut end ----------------------------------------------------------


@pytest.fixture(scope="module")
def record_ends(tmp_path_factory: pytest.TempPathFactory, login_key: LoginKey) -> dict[str, int]:
    """Byte offset, in a cut's journal, of the middle of the first record of each event."""
    with running_estate(tmp_path_factory.mktemp("reference"), login_key) as estate:
        done = estate.cut()
        assert done.code == 0, done.text
        middles: dict[str, int] = {}
        offset = 0
        for line in estate.journal.read_bytes().splitlines(keepends=True):
            event = json.loads(line)["event"]
            middles.setdefault(event, offset + len(line) // 2)
            offset += len(line)
        return middles


def run_limited(estate: Estate, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in its own process, which may not write a file past `limit`."""

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "isolement", "--inventory", str(estate.inventory), *args],
        env={**os.environ, **estate.env},
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "inside", ["run.started", "device.observed", "change.intent", "change.applied", "run.finished"]
)
def test_file_size_limit_inside_a_record_stops_the_cut_cleanly(
    tmp_path: Path, login_key: LoginKey, record_ends: dict[str, int], inside: str
) -> None:
    with running_estate(tmp_path, login_key) as estate:
        cut = ["cut", str(estate.playbook), "--reason", "ransomware", "--yes"]
        done = run_limited(estate, record_ends[inside], *cut)
        assert_stopped_cleanly(estate, done.returncode, done.stderr)
        assert estate.journal.stat().st_size <= record_ends[inside]
        assert_recovers(estate)


# --- a real small filesystem -------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(where: Path, free_pages: int) -> Iterator[Path]:
    """A tmpfs mounted at `where`, filled so that `free_pages` pages (4 KiB) are left."""
    where.mkdir()
    pages = 32
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={pages * 4}k,mode=0700", "tmpfs", str(where)],
        check=True,
    )
    try:
        filler = where / "filler"
        with filler.open("wb") as handle:
            handle.write(b"x" * ((pages - free_pages) * 4096))
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def free_space(estate: Estate) -> None:
    (estate.state_dir / "filler").unlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
@pytest.mark.parametrize("free_pages", [1, 2, 3])
def test_full_filesystem_mid_cut_stops_it_cleanly(
    tmp_path: Path, login_key: LoginKey, free_pages: int
) -> None:
    with (
        small_filesystem(tmp_path / "small", free_pages) as state,
        Emulator(SPECS, login_key.key, username="isolement") as emu,
    ):
        estate = write_estate(tmp_path / "files", emu, login_key)
        estate.env["ISOLEMENT_STATE_DIR"] = str(state)
        done = estate.cut()
        assert_stopped_cleanly(estate, done.code, done.err)
        free_space(estate)
        assert_recovers(estate)


# --- the store on its own --------------------------------------------------------------------


def run_python(code: str, limit: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_record_that_does_not_fit_raises_and_leaves_no_partial_line(tmp_path: Path) -> None:
    done = run_python(
        """
        from pathlib import Path
        from isolement.journal.store import Journal
        written = 0
        with Journal(Path("state/j.jsonl")) as journal:
            try:
                for n in range(100):
                    journal.record("test.event", n=n, output="x" * 700)
                    written += 1
            except Exception as exc:
                print(type(exc).__name__, written)
                try:
                    journal.record("test.event", n=-1)
                    print("a later record was accepted")
                except Exception as later:
                    print(type(later).__name__)
        """,
        limit=10_000,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    failure, written, later = done.stdout.split()
    assert failure == "JournalWriteError"
    assert later == "JournalWriteError"
    records = whole_records(tmp_path / "state" / "j.jsonl")
    assert len(records) == int(written) and [r["n"] for r in records] == list(range(int(written)))


def test_a_snapshot_that_does_not_fit_leaves_no_file_under_its_hash(tmp_path: Path) -> None:
    done = run_python(
        """
        from pathlib import Path
        from isolement.journal.snapshots import store_snapshot
        try:
            store_snapshot(Path("state/j.jsonl"), "hostname r1\\n" + "interface x\\n" * 2000)
            print("stored")
        except Exception as exc:
            print(type(exc).__name__)
        """,
        limit=4096,
        cwd=tmp_path,
    )
    assert done.stdout.split() == ["JournalWriteError"], done.stdout + done.stderr
    snapshots = tmp_path / "state" / "snapshots"
    assert not snapshots.exists() or list(snapshots.iterdir()) == []


def test_a_zero_byte_snapshot_left_under_its_hash_is_replaced(tmp_path: Path) -> None:
    from isolement.journal.snapshots import load_snapshot, store_snapshot

    journal = tmp_path / "state" / "j.jsonl"
    text = "hostname r1\ninterface x\n shutdown\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    (journal.parent / "snapshots").mkdir(parents=True)
    (journal.parent / "snapshots" / f"{digest}.txt").write_bytes(b"")  # an old run's, torn
    assert store_snapshot(journal, text) == digest
    assert load_snapshot(journal, digest) == text


def test_a_link_planted_under_a_snapshots_hash_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    from isolement.journal.snapshots import store_snapshot
    from isolement.model.errors import JournalWriteError

    journal = tmp_path / "state" / "j.jsonl"
    text = "hostname r1\ninterface x\n shutdown\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    victim = tmp_path / "victim"
    victim.write_text("someone else's file\n")
    (journal.parent / "snapshots").mkdir(parents=True)
    (journal.parent / "snapshots" / f"{digest}.txt").symlink_to(victim)
    with pytest.raises(JournalWriteError, match="symbolic link"):
        store_snapshot(journal, text)
    assert victim.read_text() == "someone else's file\n"


# --- a torn tail, repaired -------------------------------------------------------------------


def test_repair_moves_only_a_torn_tail_aside_and_restore_still_knows_what_is_cut(
    tmp_path: Path, login_key: LoginKey
) -> None:
    with running_estate(tmp_path, login_key) as estate:
        assert estate.cut().code == 0
        whole = estate.journal.read_bytes()
        torn = b'{"event": "change.intent", "device": "dc-rtr", "chan'
        estate.journal.write_bytes(whole + torn)  # a run killed while writing its intent

        refused = estate.cut()
        assert refused.code == EXIT_JOURNAL, refused.text
        assert "isolement journal repair" in refused.err

        repaired = estate.run("journal", "repair")
        assert repaired.code == 0, repaired.text
        aside = [p for p in estate.journal.parent.iterdir() if ".torn-" in p.name]
        assert len(aside) == 1 and aside[0].read_bytes() == torn
        assert str(aside[0]) in repaired.out
        after = estate.journal.read_bytes()
        assert after.startswith(whole)  # every whole record kept, in place
        note = json.loads(after[len(whole) :])
        assert note["event"] == "journal.repaired"
        assert note["moved_to"] == str(aside[0]) and note["torn_bytes"] == len(torn)
        assert note["torn_sha256"] == hashlib.sha256(torn).hexdigest()

        restored = estate.restore()
        assert restored.code == 0, restored.text
        assert estate.emu is not None
        assert not estate.emu.device("dc-rtr").is_shutdown(INET)
        assert estate.emu.device("h2-rtr").is_shutdown(BACKUP)


def test_repair_refuses_a_bad_line_that_is_not_a_torn_tail(
    tmp_path: Path, login_key: LoginKey
) -> None:
    with running_estate(tmp_path, login_key) as estate:
        assert estate.cut().code == 0
        lines = estate.lines()
        lines[2] = lines[2][:40] + "\n"  # a whole line edited in the middle: not a torn write
        estate.journal.write_text("".join(lines))
        before = estate.journal.read_bytes()
        done = estate.run("journal", "repair")
        assert done.code == EXIT_JOURNAL, done.text
        assert "line 3" in done.err and "not a torn" in done.err
        assert estate.journal.read_bytes() == before
