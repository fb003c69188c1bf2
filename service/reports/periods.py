"""Report periods in UTC: [from, to) bounds, the last complete ISO week or month, the weeks in between."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from service.core.time import format_utc, parse_rfc3339

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive
    label: str | None = None  # "2024-W23" or "2024-06" for scheduled reports

    def view(self) -> dict:
        return {"from": format_utc(self.start), "to": format_utc(self.end), "label": self.label}


def parse_bound(value) -> datetime:
    """An RFC 3339 instant with offset, or a date meaning 00:00 UTC that day (contract §9)."""
    if isinstance(value, str) and DATE.match(value):
        try:
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        except ValueError as error:
            raise ValueError(f"Not a valid date: {error}.") from error
    try:
        return parse_rfc3339(value).astimezone(timezone.utc)
    except ValueError as error:
        raise ValueError("Use an RFC 3339 date-time with offset or a date (YYYY-MM-DD).") from error


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding `moment`."""
    day = moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def week_label(start: datetime) -> str:
    year, week, _ = start.isocalendar()  # the ISO year, which differs from the calendar year near 1 January
    return f"{year}-W{week:02d}"


def last_complete_week(at: datetime) -> Period:
    end = week_start(at)
    return Period(end - WEEK, end, week_label(end - WEEK))


def last_complete_month(at: datetime) -> Period:
    at = at.astimezone(timezone.utc)
    end = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    start = datetime(end.year - (end.month == 1), 12 if end.month == 1 else end.month - 1, 1, tzinfo=timezone.utc)
    return Period(start, end, f"{start.year}-{start.month:02d}")


def scheduled(kind: str, at: datetime) -> Period:
    return last_complete_week(at) if kind == "weekly" else last_complete_month(at)


def weeks_between(start: datetime, end: datetime) -> list[datetime]:
    """Monday starts of the ISO weeks intersecting [start, end), in order."""
    weeks, current = [], week_start(start)
    while current < end:
        weeks.append(current)
        current += WEEK
    return weeks
