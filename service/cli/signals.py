"""Long-running commands (the sequencer, the witness submitter, the monitor) stop on SIGINT or SIGTERM,
once the work in hand is done."""
import signal
import threading


def run_until_signalled(stop: threading.Event, work, name: str) -> None:
    """`work()` in a thread of its own until it returns; SIGINT or SIGTERM sets `stop`, which it watches.

    The main thread, where Python runs signal handlers, does nothing but wait for that thread. A handler
    that set the event after interrupting the main thread inside the same event's wait(), just as that
    had taken the event's lock back, waited for the lock forever: an orphaned sequencer was found still
    running hours after its gunicorn had stopped.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=work, name=name)
    thread.start()
    while thread.is_alive():
        thread.join(1.0)
