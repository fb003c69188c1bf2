"""API keys and request bodies never reach the logs, even at DEBUG, whatever the request's fate."""
import io
import json
import logging

import pytest

from service import create_app
from service.web.logs import JSONFormatter

from ..helpers import make_event

MARKER = "BODY-MARKER-7f3c9e"  # a string that only ever travels in request bodies


@pytest.fixture
def log_output():
    """Everything every logger writes, formatted as in production; DEBUG before the app exists, so the
    app and its engine are built believing they are being debugged."""
    buffer, handler, root = io.StringIO(), logging.StreamHandler(), logging.getLogger()
    handler.setStream(buffer)
    handler.setFormatter(JSONFormatter())
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def test_keys_and_bodies_never_appear_in_logs(log_output, database_url, signing_key_path):
    app = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path})
    runner, client = app.test_cli_runner(), app.test_client()
    secrets = {}
    for name, role in (("ops-log", "reporter"), ("audit-log", "auditor"), ("gone-log", "reporter")):
        created = runner.invoke(args=["keys", "create", "--name", name, "--role", role])
        secrets[name] = created.output.strip().splitlines()[-1]
    assert runner.invoke(args=["keys", "revoke", "gone-log"]).exit_code == 0
    reporter, auditor = ({"Authorization": f"Bearer {secrets[n]}"} for n in ("ops-log", "audit-log"))

    statuses = [
        client.post("/v1/events", json=make_event("log-1", notes=MARKER), headers=reporter).status_code,
        client.post("/v1/events", json=make_event("log-1", notes=MARKER + "!"), headers=reporter).status_code,
        client.post("/v1/events", json=make_event("log-2", **{"target.category": MARKER}),
                    headers=reporter).status_code,
        client.post("/v1/events", data=f'{{"notes": "{MARKER}", "notes": 1}}', headers=reporter,
                    content_type="application/json").status_code,
        client.post("/v1/events/batch", json={"events": [make_event("log-3", notes=MARKER), {"x": MARKER}]},
                    headers=reporter).status_code,
        client.get("/v1/events", headers=auditor).status_code,
        client.get("/v1/events", headers={"Authorization": f"Bearer {secrets['ops-log']}x"}).status_code,
        client.get("/v1/events", headers={"Authorization": f"Bearer {secrets['gone-log']}"}).status_code,
        client.post("/v1/events", json=make_event("log-4", notes=MARKER),
                    headers={"Authorization": f"Bearer {secrets['gone-log']}"}).status_code,
    ]
    app.extensions["db_engine"].dispose()
    assert statuses == [201, 409, 400, 400, 200, 200, 401, 401, 401]

    text = log_output.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    requests = [line for line in lines if line["logger"] == "service.access"]
    assert len(requests) == len(statuses) and {r["key"] for r in requests} == {"ops-log", "audit-log", None}
    assert MARKER not in text
    for name, secret in secrets.items():
        assert secret not in text and secret[len("sak_"):][:16] not in text, name
