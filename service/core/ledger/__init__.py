"""The ledger's pure side: canonical bytes, Merkle proofs, signed notes and the verification checks."""
