"""Reports in: intake of single reports, batches and corrections, the version writer and the query index."""
