"""Contract fuzzing: schemathesis sends generated requests for every operation of the committed
openapi.yaml to a real gunicorn, with valid keys of each role, an invalid key and none.

Every answer must be a non-5xx response that the spec documents (status code, content type,
headers, body schema); invalid requests (negative mode) must be refused with a 4xx.
"""
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (content_type_conformance, negative_data_rejection, not_a_server_error,
                                 response_headers_conformance, response_schema_conformance,
                                 status_code_conformance)
from schemathesis.generation import GenerationMode

REPO = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(REPO / "openapi.yaml")
EXAMPLES = 12  # per operation and generation mode: about 600 requests, well under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
WHO = ("admin", "auditor", "reporter", "invalid", "none")


def _headers(keys, who: str) -> dict:
    if who == "invalid":
        return {"Authorization": "Bearer sak_not-a-key-of-this-service"}
    return {} if who == "none" else dict(getattr(keys, who))


def _has_input(operation) -> bool:
    return any(len(part) for part in (operation.path_parameters, operation.query, operation.body))


# PostgreSQL only: it is the production database, and the rest of the suite already runs every
# endpoint on both; twice the fuzzing would cost a minute of CI for little.
@pytest.mark.parametrize("db_factory", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_every_operation_answers_as_the_spec_says(live_server, keys, mode):
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    assert len(operations) >= 25
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    failures = []
    for operation in operations:
        # /readyz answers a documented 503 whenever the sequencer falls behind under the fuzzing's
        # own load: not a server error (status_code_conformance still checks it is documented).
        checks_here = [c for c in checks if not (operation.path == "/readyz" and c is not_a_server_error)]
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to make invalid

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(WHO))
        def call(case, who):
            case.call_and_validate(base_url=live_server, headers=_headers(keys, who), checks=checks_here, timeout=30)

        try:
            call()
        except Exception as failure:  # collected so that one run reports every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)
