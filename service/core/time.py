"""RFC 3339 instants: the one parser and the one formatter every layer uses (UTC, offset required)."""
import re
from datetime import datetime, timezone

# RFC 3339 date-time: an explicit offset (Z or ±hh:mm) is required.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_DIGITS = re.compile(r"\d+")


def parse_rfc3339(value) -> datetime:
    """An aware datetime; ValueError (with a message for the client) for anything else, a missing
    offset included: a timestamp without one would silently mean local time."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("Not an RFC 3339 date-time with offset, e.g. 2024-06-02T03:14:00Z.")
    text = value.upper()
    if "." in text:  # Python reads at most 6 fractional digits
        head, _, tail = text.partition(".")
        digits = _DIGITS.match(tail).group()
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits):]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"Not a valid date-time: {error}.") from error


def format_utc(moment: datetime) -> str:
    """2024-06-02T03:14:00Z; fractions only when present."""
    if moment.tzinfo is not timezone.utc:  # rows are read as UTC already: a report formats 95,000 of them
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
