"""The auditor's export (contract §8): the whole filtered result as CSV, GeoJSON or NDJSON, streamed.

Memory stays constant whatever the result size: heads are read newest first in keyset chunks, each
chunk in its own short session (on SQLite every transaction holds the write lock, so a session held
for the whole export would stall intake), and each chunk is encoded and sent before the next is read.
"""
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from service.audit.filters import EventFilter, filtered_heads, newest_first, older_than
from service.audit.records import list_item
from service.core.spreadsheet import cell
from service.events.records import with_entries
from service.events.tables import EventHead

CHUNK = 500
COLUMNS = ("id", "source_event_id", "reporter", "version", "supersedes", "occurred_at", "received_at", "verdict",
           "severity", "review_status", "policy_version", "policy_sha256", "munition", "family", "launcher",
           "us_provided", "category", "linked_to_invasion", "target_lat", "target_lon", "target_country",
           "computed_country", "depth_km", "range_km", "zones", "rule_ids", "findings", "launch_lat", "launch_lon",
           "target_description", "notes")

Chunk = list[tuple[EventHead, dict]]


def matching_count(sessions: sessionmaker, criteria: EventFilter | None) -> int:
    """How many events the export holds when it starts (for the access entry); None matches nothing."""
    if criteria is None:
        return 0
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(filtered_heads(criteria).subquery()))


def _chunks(sessions: sessionmaker, criteria: EventFilter, heartbeat: Callable[[], None]) -> Iterator[Chunk]:
    query = newest_first(filtered_heads(criteria), criteria)
    last = None
    while True:
        page = query if last is None else older_than(query, criteria, *last)
        with sessions() as session:
            rows = session.execute(with_entries(page.limit(CHUNK))).all()
        if rows:
            yield [(row[0], list_item(*row)) for row in rows]
        if len(rows) < CHUNK:
            return
        last = (rows[-1][0].occurred_at, rows[-1][0].id)
        heartbeat()


def flat(head: EventHead, item: dict) -> dict:
    """One event as the flat fields of a CSV row or GeoJSON properties (lists kept as lists)."""
    weapon, target, computed = item["weapon"], item["target"], item["computed"]
    launch = item.get("launch") or {}
    return {
        **{name: item[name] for name in ("id", "source_event_id", "reporter", "version", "supersedes", "occurred_at",
                                         "received_at", "verdict")},
        "severity": head.severity,
        **{name: item[name] for name in ("review_status", "policy_version", "policy_sha256")},
        "munition": weapon["munition"], "family": head.family, "launcher": weapon.get("launcher"),
        "us_provided": weapon["us_provided"], "category": target["category"],
        "linked_to_invasion": target.get("linked_to_invasion"),
        "target_lat": target["lat"], "target_lon": target["lon"], "target_country": target.get("country"),
        "computed_country": computed["country"], "depth_km": computed["depth_km"], "range_km": computed["range_km"],
        "zones": computed["zones"],
        "rule_ids": [finding["rule_id"] for finding in item["findings"]],
        "findings": [finding["message"] for finding in item["findings"]],
        "launch_lat": launch.get("lat"), "launch_lon": launch.get("lon"),
        "target_description": target.get("description"), "notes": item.get("notes"),
    }


def csv_row(head: EventHead, item: dict) -> list:
    row = flat(head, item)
    row["zones"], row["rule_ids"] = ";".join(row["zones"]), ";".join(row["rule_ids"])
    row["findings"] = " | ".join(row["findings"])
    return [cell(row[name]) for name in COLUMNS]


def _csv(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # minimal quoting; commas, quotes and newlines in a cell are escaped

    def drained() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    writer.writerow(COLUMNS)
    yield drained()
    for chunk in chunks:
        writer.writerows(csv_row(head, item) for head, item in chunk)
        yield drained()


def feature(head: EventHead, item: dict) -> dict:
    """RFC 7946: [lon, lat] order and no `crs` member, which is what QGIS opens as WGS 84."""
    properties = flat(head, item)
    launch = item.get("launch")
    properties["launch"] = [launch["lon"], launch["lat"]] if launch else None
    return {"type": "Feature", "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [properties["target_lon"], properties["target_lat"]]},
            "properties": properties}


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _geojson(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    separator = ""
    for chunk in chunks:
        yield (separator + ",".join(_dumps(feature(head, item)) for head, item in chunk)).encode()
        separator = ","
    yield b"]}\n"


def _ndjson(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    # Each line is exactly a list item: list_item builds them in the list schema's shape already
    # (a test compares every line with GET /v1/events), so a schema dump would only cost a third
    # of the export's time.
    for chunk in chunks:
        yield "".join(_dumps(item) + "\n" for _, item in chunk).encode()


FORMATS = {
    "csv": ("text/csv", _csv),  # Werkzeug adds "; charset=utf-8" to text/* types
    "geojson": ("application/geo+json", _geojson),
    "ndjson": ("application/x-ndjson", _ndjson),
}


def encoded(sessions: sessionmaker, criteria: EventFilter | None, format_name: str,
            heartbeat: Callable[[], None] = lambda: None) -> Iterator[bytes]:
    """The export's bytes, produced as they are read; criteria None is an empty export (a reporter
    asking for someone else's). `heartbeat` is called between chunks: a long export says it is alive."""
    _, encode = FORMATS[format_name]
    return encode(_chunks(sessions, criteria, heartbeat) if criteria is not None else iter(()))
