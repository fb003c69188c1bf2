"""Console sessions: a random token in the browser, only its SHA-256 here, ended by sign-out,
by idling past the limit, or by the key being revoked or rotated."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.keys.tables import ConsoleSession

# last_seen_at is written at most this often, so that reading pages is not a write per page.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class OpenSession:
    id: int
    key_hash: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, key_hash: str, now: datetime, idle: timedelta) -> str:
    """A new session for the key with this hash; the token (256 random bits) goes to the browser only.
    Sessions idle past the limit are removed on the way: nothing else would ever remove them."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.last_seen_at < now - idle))
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_digest(token), key_hash=key_hash, created_at=now, last_seen_at=now))
    return token


def open_session(session: Session, token: str, now: datetime, idle: timedelta) -> OpenSession | None:
    """The session this token opened, if it has not idled past `idle`; seen now. The caller commits."""
    found = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))
    if found is None:
        return None
    if now - found.last_seen_at > idle:
        session.delete(found)
        return None
    if now - found.last_seen_at >= min(TOUCH_EVERY, idle / 4):
        found.last_seen_at = now
    return OpenSession(found.id, found.key_hash)


def end_session(session: Session, session_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))


def end_sessions_of_key(session: Session, key_hash: str) -> int:
    """Every session of a key that is no longer valid (revoked or rotated); how many there were."""
    return session.execute(delete(ConsoleSession).where(ConsoleSession.key_hash == key_hash)).rowcount
