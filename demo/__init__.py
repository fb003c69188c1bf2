"""`make demo`: load a realistic synthetic set of strike reports through the HTTP API.

    python -m demo --url http://127.0.0.1:8000 --key KEY [--count 600] [--seed 7]

The set spans every policy period of contract §3 (plus a few reports from before the first one),
and is planned so that every verdict and every rule id of contract §6 occurs at least once. It
is synthetic: places are real towns, airbases and sea areas, but every strike, unit and
piece of evidence is invented.

The demo is an ordinary API client. It submits with `POST /v1/events/batch` (≤ 200 reports
a request), reads every verdict back with `GET /v1/events/{id}` and prints what the
*service* answered: counts by submission status, verdict, rule id and policy version. The
geography module is used in-process only to *plan* (to keep a jittered town inside Russia
and within 80 km of Ukraine, a sea point at sea, a launch within range); what counts is
what the API returns.

The set is a pure function of --seed and --count (no clock, no network input), and each
report's `source_event_id` is `demo-<seed>-<nnnnn>`, so running the demo again with the same
key gives "duplicate" for every report. Exit status: 0 when every verdict and rule id of
contract §6 occurred and no report came back invalid or in conflict, 1 otherwise, 2 when the
service could not be used at all (unreachable, bad key, bad arguments).
"""
from demo.plan import plan_reports
from demo.world import PERIODS

__all__ = ["PERIODS", "plan_reports"]
