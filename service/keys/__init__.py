"""API keys: minting, rotating, revoking, and who a key is (its Principal)."""
