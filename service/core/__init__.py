"""The pure core: rules, geography, time, the ledger's bytes, proofs and checks. No Flask, no SQLAlchemy."""
