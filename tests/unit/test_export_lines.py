"""The export's NDJSON line spliced from the entries' canonical bytes is byte for byte the line `json` writes
for the list item read from them, whatever the numbers (every exponent), the text and the timestamps."""
import math
import struct
import uuid
from datetime import datetime, timezone

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.audit.records import item_json, item_line, item_of
from service.ledger.entries import entry_row

from ..helpers import make_event

NOW = datetime(2024, 6, 2, 3, 20, tzinfo=timezone.utc)
finite_doubles = st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0]) \
    .filter(math.isfinite)
numbers = st.one_of(finite_doubles, st.floats(-180, 180), st.integers(-2**53 + 1, 2**53 - 1),
                    st.sampled_from([0.00001, -0.00009999, 1e-7, 1e-10, 1e16, 1e20, 1e21, 2.0**64, 5e-324, 0.0001]))
texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["1e-7", "6e-4a35", "10.00001", "fire-", "\u2028\x00\x1f\"\\/", "},\"received_at\":\"", "],\"policy_sha256\":"])
instants = st.sampled_from(["2024-06-02T03:14:00Z", "2024-06-02T05:14:00+02:00", "2024-06-02t03:14:00z",
                            "2024-06-02T03:14:00.5Z", "2024-06-02T03:14:00.000000Z", "2024-06-01T23:14:00-04:00"])


def entries(lat, lon, launch, depth, evidence_number, notes, message, reporter, occurred_at, corrected):
    """A report entry and its evaluation entry as the writer makes them (events.writer._rows)."""
    event_id = str(uuid.uuid4())
    payload = make_event("src-" + notes[:4], **{"target.lat": lat, "target.lon": lon, "notes": notes,
                                                 "occurred_at": occurred_at,
                                                 "launch": {"lat": launch, "lon": lon} if launch is not None else None})
    report = {"event_id": event_id, "reporter": reporter, "submitted_by": reporter,
              "source_event_id": payload["source_event_id"], "version": 2 if corrected else 1,
              "supersedes": str(uuid.uuid4()) if corrected else None, "received_at": "2024-06-02T03:20:00Z",
              "payload": payload}
    evaluation = {"event_id": event_id, "verdict": "violation", "policy_version": reporter or None,
                  "policy_sha256": "ab" * 32, "computed": {"country": "UA", "depth_km": depth, "range_km": lat,
                                                           "zones": [notes]},
                  "findings": [{"rule_id": "CIV-TARGET", "severity": "critical", "message": message,
                                "evidence": {"depth_km": depth, "values": [evidence_number, lon], "note": notes}}]}
    return (entry_row(None, "correction" if corrected else "event_received", report, NOW)["canonical"],
            entry_row(None, "evaluation", evaluation, NOW)["canonical"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers, numbers, st.none() | numbers, numbers, numbers, texts, texts, texts, instants, st.booleans())
@example(0.00001, 1e-7, 1e20, 1e-10, 2.0**64, "1e-7", "6e-4a35", "ops", "2024-06-02T05:14:00+02:00", True)
@example(50.0, 36.25, None, 0, 12, "fire-", "\u2028", "ops-a", "2024-06-02T03:14:00Z", False)
def test_a_spliced_line_is_the_line_json_writes(lat, lon, launch, depth, evidence_number, notes, message, reporter,
                                                occurred_at, corrected):
    try:
        report, evaluation = entries(lat, lon, launch, depth, evidence_number, notes, message, reporter,
                                     occurred_at, corrected)
    except rfc8785.CanonicalizationError:  # beyond I-JSON: no entry can hold it
        return
    leaf_hash = bytes(range(32))
    expected = (item_json(item_of("open", 7, report, leaf_hash, evaluation)) + "\n").encode()
    assert item_line("open", 7, report, leaf_hash, evaluation) == expected


@pytest.mark.parametrize("lat", [0.00001, 1e-7, 50.45])
def test_a_line_in_plain_numbers_is_spliced_and_one_in_exponents_read_and_written(lat, monkeypatch):
    report, evaluation = entries(lat, 30.5, None, 1.5, 2, "notes", "message", "ops-a", "2024-06-02T03:14:00Z", False)
    written = []
    import service.audit.records as records
    monkeypatch.setattr(records, "item_json", lambda item: written.append(item) or item_json(item))
    line = item_line("open", 7, report, bytes(32), evaluation)
    assert line == (item_json(item_of("open", 7, report, bytes(32), evaluation)) + "\n").encode()
    assert len(written) == (0 if lat == 50.45 else 1)
