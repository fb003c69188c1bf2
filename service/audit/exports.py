"""The auditor's export (contract §8): the whole filtered result as CSV, GeoJSON or NDJSON, streamed.

Memory stays constant whatever the result size: heads are read newest first in keyset chunks of a few
thousand, each chunk one query through the driver itself (plain tuples, no ORM objects, and on PostgreSQL
bytea in binary), and each chunk is encoded into one piece of bytes and sent while the next one is read:
at most two chunks are held. An NDJSON line is spliced from the entries' canonical bytes (`item_line`);
CSV and GeoJSON read the entries. A chunk takes no lock on SQLite (WAL: each query reads its own
snapshot), so intake goes on during a long export.
"""
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from service.audit.filters import EventFilter, filtered_heads, newest_first, older_than
from service.audit.records import item_json, item_line, item_of
from service.core.spreadsheet import cells
from service.db.driver import DriverConnection
from service.events.records import with_entries
from service.events.tables import EventHead

# Rows a query: each query costs its planning and round trips (a few ms), so chunks of a few thousand make
# them negligible, while one chunk's rows and bytes (about 1.4 KB and 1.2 KB an event) stay a few MB.
CHUNK = 2000
COLUMNS = ("id", "source_event_id", "reporter", "version", "supersedes", "occurred_at", "received_at", "verdict",
           "severity", "review_status", "policy_version", "policy_sha256", "munition", "family", "launcher",
           "us_provided", "category", "linked_to_invasion", "target_lat", "target_lon", "target_country",
           "computed_country", "depth_km", "range_km", "zones", "rule_ids", "findings", "launch_lat", "launch_lon",
           "target_description", "notes")
# A row: occurred_at, id (the keyset), review_status, severity, family, the report entry's id, its canonical
# bytes and leaf hash, the evaluation entry's canonical bytes.
_HEAD_COLUMNS = (EventHead.occurred_at, EventHead.id, EventHead.review_status, EventHead.severity,
                 EventHead.family, EventHead.ledger_entry_id)
Chunk = list[tuple]


def matching_count(sessions: sessionmaker, criteria: EventFilter | None) -> int:
    """How many events the export holds when it starts (for the access entry); None matches nothing."""
    if criteria is None:
        return 0
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(filtered_heads(criteria).subquery()))


def _chunks(engine: Engine, criteria: EventFilter, heartbeat: Callable[[], None]) -> Iterator[Chunk]:
    """The rows, a chunk at a time; the next chunk is read on a thread while this one is encoded and
    sent, so that PostgreSQL's half of the work (a third of the time) runs beside the worker's."""
    query = newest_first(with_entries(filtered_heads(criteria).with_only_columns(*_HEAD_COLUMNS)), criteria)
    # The driver gives occurred_at as it stores it (text on SQLite); the next chunk's bound is a datetime.
    occurred = EventHead.occurred_at.type.dialect_impl(engine.dialect).result_processor(engine.dialect, None)

    def read(last: tuple | None) -> Chunk:
        # PostgreSQL plans a chunk as a parallel Gather Merge, which on two cores took 70 ms where one
        # process takes 45 (5,000 rows), and more CPU in all: its workers read rows the LIMIT throws away.
        with DriverConnection(engine, write=False, settings={"max_parallel_workers_per_gather": "0"}) as db:
            page = query if last is None else older_than(query, criteria, *last)
            return db.query(page.limit(CHUNK), hot=True, binary=True)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") as reader:
        coming = reader.submit(read, None)
        while coming is not None:
            rows = coming.result()
            coming = None
            if len(rows) == CHUNK:  # perhaps more: read on while this chunk goes out
                at, head_id = rows[-1][0], rows[-1][1]
                coming = reader.submit(read, (occurred(at) if occurred else at, head_id))
            if rows:
                yield rows
            del rows  # at most this chunk and the next are held
            if coming is not None:
                heartbeat()


def flat(severity: str | None, family: str | None, item: dict) -> dict:
    """One event as the flat fields of a CSV row or GeoJSON properties (lists kept as lists)."""
    weapon, target, computed = item["weapon"], item["target"], item["computed"]
    launch = item.get("launch") or {}
    return {
        **{name: item[name] for name in ("id", "source_event_id", "reporter", "version", "supersedes", "occurred_at",
                                         "received_at", "verdict")},
        "severity": severity,
        **{name: item[name] for name in ("review_status", "policy_version", "policy_sha256")},
        "munition": weapon["munition"], "family": family, "launcher": weapon.get("launcher"),
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


def _item(row: tuple) -> dict:
    _, _, review_status, _, _, entry_id, report, leaf_hash, evaluation = row
    return item_of(review_status, entry_id, report, leaf_hash, evaluation)


def csv_row(severity: str | None, family: str | None, item: dict) -> list:
    row = flat(severity, family, item)
    row["zones"], row["rule_ids"] = ";".join(row["zones"]), ";".join(row["rule_ids"])
    row["findings"] = " | ".join(row["findings"])
    return cells([row[name] for name in COLUMNS])


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
        writer.writerows([csv_row(row[3], row[4], _item(row)) for row in chunk])
        yield drained()


def feature(severity: str | None, family: str | None, item: dict) -> dict:
    """RFC 7946: [lon, lat] order and no `crs` member, which is what QGIS opens as WGS 84."""
    properties = flat(severity, family, item)
    launch = item.get("launch")
    properties["launch"] = [launch["lon"], launch["lat"]] if launch else None
    return {"type": "Feature", "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [properties["target_lon"], properties["target_lat"]]},
            "properties": properties}


def _orjson_prints_as_json(value) -> bool:
    """orjson writes a float as `json` does (the same shortest digits) from 1e-4 to 1e16, and zero; outside
    that, exponents differ (1e-05 against 0.00001)."""
    return type(value) is not float or value == 0 or 1e-4 <= abs(value) < 1e16


def feature_json(feature_: dict) -> bytes:
    """A feature as `json` writes it (separators without spaces, text as UTF-8), by orjson when that gives
    the same bytes, five times faster: every number of a feature is one of its properties or in a list
    there (geometry repeats target_lon and target_lat)."""
    for value in feature_["properties"].values():
        if not (all(map(_orjson_prints_as_json, value)) if type(value) is list else _orjson_prints_as_json(value)):
            return item_json(feature_).encode()
    try:
        return orjson.dumps(feature_)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return item_json(feature_).encode()


def _geojson(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    separator = b""
    for chunk in chunks:
        yield separator + b",".join([feature_json(feature(row[3], row[4], _item(row))) for row in chunk])
        separator = b","
    yield b"]}\n"


def _ndjson(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    # Each line is exactly a list item, in the list schema's shape already (a test compares every line with
    # GET /v1/events), spliced from the entries' bytes.
    for chunk in chunks:
        yield b"".join([item_line(row[2], row[5], row[6], row[7], row[8]) for row in chunk])


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
    return encode(_chunks(sessions.kw["bind"], criteria, heartbeat) if criteria is not None else iter(()))
