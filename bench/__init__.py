"""`make bench`: throughput, latency, memory and verification figures against the issue's targets."""
