"""gunicorn settings for production and `make run`, from the service's Settings (BIND or PORT,
WEB_CONCURRENCY, GUNICORN_TIMEOUT, LOG_LEVEL, EMBEDDED_SEQUENCER; docs/operations.md)."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from service.config import Settings, SettingsError

try:
    _settings = Settings.from_env()
except SettingsError as error:  # one line that says which variable to fix, not a traceback
    sys.exit(f"strike-audit: {error}")

bind = _settings.bind
workers = _settings.web_concurrency
worker_class = "sync"
# Boundaries and policies load once in the master, then are shared copy-on-write by the workers.
preload_app = True
timeout = _settings.gunicorn_timeout
graceful_timeout = 30
keepalive = 5
# Refuse oversized request lines and headers before any Python code sees them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None  # the app writes one JSON line per request, with its request id
errorlog = "-"
loglevel = _settings.log_level.lower()


# prometheus_client's multiprocess mode: each worker keeps its samples in files here, and /metrics adds up
# every worker's, whichever answers the scrape. It must be set before prometheus_client is imported,
# which preload_app does right after reading this file. Files from an earlier run would be added in too.
# prometheus_client reads the directory from the environment itself, so it is written back there.
_own_metrics_dir = _settings.prometheus_multiproc_dir is None
_metrics_dir = _settings.prometheus_multiproc_dir or tempfile.mkdtemp(prefix="strike-audit-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
for _stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
    os.remove(_stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # drops a dead worker's live gauges; its counters stay


def post_fork(server, worker):
    # Connections opened before the fork must not be shared between workers.
    from service.wsgi import app

    app.extensions["db_engine"].dispose(close=False)
    # Long streamed exports report progress, so gunicorn's timeout only catches truly stuck workers.
    app.extensions["worker_heartbeat"] = worker.notify


# `make run` starts everything: the sequencer runs beside gunicorn and stops with it. Deployments
# that run the sequencer as its own service (docker-compose) set EMBEDDED_SEQUENCER=0.
_sequencer = None
_sequencer_lock = threading.Lock()
_stopping = False


def _start_sequencer():
    # Who its parent is, told rather than read by the sequencer once loaded: if the master dies while
    # the sequencer is still starting, os.getppid() would already be init's pid and it would never exit.
    env = {**os.environ, "SEQUENCER_PARENT_PID": str(os.getpid())}
    # Its own session: Ctrl-C in the terminal signals the whole foreground group, and a sequencer
    # stopping by itself before the master reached on_exit looked like a crash to the keeper, which
    # logged an error and started it again. The master alone stops it (on_exit), and a master that
    # dies without on_exit is noticed by --exit-with-parent.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "service", "ledger", "sequence",
                             "--exit-with-parent"], env=env, start_new_session=True)


def _keep_sequencer_running(server):
    """A thread of the master: gunicorn restarts workers that die, not the sequencer. Without this, a
    sequencer killed (OOM killer, crash) leaves every later entry pending and unsigned until gunicorn
    restarts, while the API keeps acknowledging reports. docker-compose's `restart: unless-stopped`
    does the same for its own sequencer service."""
    global _sequencer
    while True:
        time.sleep(1)
        with _sequencer_lock:
            if _stopping:
                return
            # gunicorn's SIGCHLD handler may reap it first; poll() then still reports it gone.
            if _sequencer.poll() is not None:
                server.log.error("the ledger sequencer (pid %s) exited; starting it again", _sequencer.pid)
                _sequencer = _start_sequencer()


def when_ready(server):
    global _sequencer
    if _settings.embedded_sequencer:
        _sequencer = _start_sequencer()
        threading.Thread(target=_keep_sequencer_running, args=(server,), name="sequencer-keeper", daemon=True).start()


def on_exit(server):
    global _stopping
    with _sequencer_lock:
        _stopping = True  # no restart of the sequencer stopped below
    if _sequencer is not None and _sequencer.poll() is None:
        _sequencer.terminate()  # finishes its batch (one transaction) and exits
        try:
            _sequencer.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a batch never half-commits, so killing is safe
            _sequencer.kill()
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
