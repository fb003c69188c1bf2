"""Starting and stopping as an operator does: settings gunicorn accepts are accepted, a bad one is one clear
line, and Ctrl-C stops everything without an error and without restarting anything."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import REPO, flask_cli, free_port, service_env
from .processes import children_of, is_sequencer, pid_alive, wait_for

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def gunicorn(database_url: str, port: int, log: Path, extra_env: dict) -> subprocess.Popen:
    """gunicorn as `make run` starts it, leading its own process group as a shell job does."""
    env = service_env(database_url, {"PORT": str(port), "WEB_CONCURRENCY": "2", **extra_env})
    with open(log, "ab") as out:
        return subprocess.Popen([GUNICORN, "--config", "service/gunicorn_conf.py", "service.wsgi:app"], cwd=REPO,
                                env=env, stdout=out, stderr=out, start_new_session=True)


def ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def sequencers_of(master: int) -> set[int]:
    """Sequencers this master started, wherever they are now (an orphan's parent is no longer the master)."""
    mark = f"SEQUENCER_PARENT_PID={master}".encode()

    def started_by_master(pid: int) -> bool:
        try:
            return mark in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False

    return {int(pid) for pid in os.listdir("/proc") if pid.isdigit() and is_sequencer(int(pid))
            and started_by_master(int(pid)) and pid_alive(int(pid))}


def described(pids) -> list[str]:
    """What a failed assertion shows of each process: its state line (pid, name, state, parent, group)."""
    return [Path(f"/proc/{pid}/stat").read_text(errors="replace")[:80] for pid in pids if pid_alive(pid)]


@pytest.mark.parametrize("level", ["warning", "Debug", "ERROR"])
def test_log_levels_are_accepted_in_any_case(database_url, signing_key_path, tmp_path, level):
    port, log = free_port(), tmp_path / "gunicorn.log"
    process = gunicorn(database_url, port, log, {"LOG_LEVEL": level, "LEDGER_SIGNING_KEY": signing_key_path})
    try:
        wait_for(lambda: ready(f"http://127.0.0.1:{port}") or process.poll() is not None, 30, "gunicorn ready")
        assert process.poll() is None, log.read_text()[-2000:]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_an_unknown_log_level_is_one_clear_line(database_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    process = gunicorn(database_url, free_port(), log, {"LOG_LEVEL": "verbose"})
    assert process.wait(timeout=30) != 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines == ["strike-audit: LOG_LEVEL='verbose' is not a log level; use one of DEBUG, INFO, WARNING, "
                     "ERROR, CRITICAL (in any case)"]
    command = flask_cli(database_url, "keys", "list", extra_env={"LOG_LEVEL": "verbose"})
    assert command.returncode != 0 and "Traceback" not in command.stderr
    assert command.stderr.strip().splitlines() == lines


def test_ctrl_c_stops_everything_without_an_error(database_url, signing_key_path, tmp_path):
    port, log = free_port(), tmp_path / "gunicorn.log"
    process = gunicorn(database_url, port, log, {"LOG_LEVEL": "info", "LEDGER_SIGNING_KEY": signing_key_path})
    try:
        wait_for(lambda: ready(f"http://127.0.0.1:{port}"), 30, "gunicorn ready (a first checkpoint signed)")
        sequencer = wait_for(lambda: next((pid for pid in children_of(process.pid) if is_sequencer(pid)), None), 10,
                             "the master started its sequencer")
        assert sequencers_of(process.pid) == {sequencer}, described(sequencers_of(process.pid))
        # Outside the terminal's process group: a sequencer that stopped by itself on Ctrl-C before the master
        # reached on_exit looked like a crash to the master's keeper, which logged an error and restarted it.
        assert os.getpgid(sequencer) != os.getpgid(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends: the whole foreground group
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:  # a failed assertion above must not leave the server running
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    wait_for(lambda: sequencer not in sequencers_of(process.pid), 20, "the sequencer stopped with gunicorn")
    # Nothing waits for a restart that should not happen, so look again after longer than the keeper's
    # poll (1 s): a sequencer it had started during the shutdown would still be running, orphaned.
    time.sleep(1.5)
    assert sequencers_of(process.pid) == set(), "a sequencer was started again during the shutdown"
    text = log.read_text()
    assert "[ERROR]" not in text and "starting it again" not in text, text[-3000:]
    assert "Shutting down: Master" in text
