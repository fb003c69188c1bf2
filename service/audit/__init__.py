"""The auditor's side: filters and pages, event records, exports, reviews and access entries."""
