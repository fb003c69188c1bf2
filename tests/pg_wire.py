"""A TCP proxy in front of PostgreSQL that counts what clients send: statements and round trips, read off the
wire protocol itself, so the count does not depend on how the code sends them (ORM, Core, the driver,
pipelines).

Frontend messages after the start-up packet are a type byte and a length: `Q` is a simple query (one
statement), `E` executes a prepared one; the backend ends each exchange with `Z` (ReadyForQuery), so the
`Z`s are the round trips.
"""
import socket
import struct
import threading
from collections import Counter
from contextlib import contextmanager


class _Reader:
    """Splits a byte stream into protocol messages and counts their types."""

    def __init__(self, counts: Counter, lock: threading.Lock, startup: bool):
        self.buffer, self.counts, self.lock, self.startup = b"", counts, lock, startup

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.startup:  # int32 length (itself included), no type byte; SSLRequest the same
                if len(self.buffer) < 4:
                    return
                (length,) = struct.unpack("!I", self.buffer[:4])
                if len(self.buffer) < length:
                    return
                code = struct.unpack("!I", self.buffer[4:8])[0] if length >= 8 else 0
                self.buffer = self.buffer[length:]
                self.startup = code == 80877103  # an SSLRequest is followed by the real start-up packet
                continue
            if len(self.buffer) < 5:
                return
            kind, (length,) = self.buffer[:1], struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            self.buffer = self.buffer[1 + length:]
            with self.lock:
                self.counts[kind.decode("latin-1")] += 1


class WireCounter:
    """Listens on 127.0.0.1:<port> and relays to the real server; `counts` says what went through."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.counts, self.lock = upstream, Counter(), threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.backend = Counter()  # backend message types, e.g. "Z"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            front, back = _Reader(self.counts, self.lock, True), _Reader(self.backend, self.lock, False)
            back.startup = False
            threading.Thread(target=self._relay, args=(client, server, front), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, _Backend(back)), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket, reader) -> None:
        try:
            while data := source.recv(65536):
                reader.feed(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @contextmanager
    def measuring(self):
        """Counts of what the block sent: {"statements": …, "round_trips": …, plus each message type}."""
        with self.lock:
            front, back = Counter(self.counts), Counter(self.backend)
        found: dict = {}
        yield found
        with self.lock:
            sent, answered = self.counts - front, self.backend - back
        found.update(sent)
        found["statements"] = sent["Q"] + sent["E"]
        found["round_trips"] = answered["Z"]

    def close(self) -> None:
        self.listener.close()


class _Backend:
    """The backend's stream: after the start-up exchange (an 'N' or 'S' answer to SSLRequest comes alone)."""

    def __init__(self, reader: _Reader):
        self.reader, self.first = reader, True

    def feed(self, data: bytes) -> None:
        if self.first and data[:1] in (b"N", b"S") and len(data) == 1:
            return  # the one-byte answer to an SSLRequest
        self.first = False
        self.reader.feed(data)
