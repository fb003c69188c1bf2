"""The rules engine (contract §6), its value objects and the target categories (contract §4)."""
