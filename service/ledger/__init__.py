"""The ledger's storage side: entries, stored tree, sequencer, signer, reads and proofs, verify, bundles."""
