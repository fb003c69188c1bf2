"""Compliance reports (contract §9): figures as of a signed checkpoint, reproducible from the ledger.

periods: report periods; compute: the figures (SQL) and their recomputation (ledger replay);
document: the JSON contract; store: stored reports and their ledger entries; verify: `reports verify`.
render_csv / render_html turn the JSON into the other formats.
"""
