"""Target categories (contract §4): military, civilian (prohibited everywhere) or for review."""
import json
from importlib.resources import files

CATEGORIES: dict[str, list[str]] = json.loads(
    files("service.core.rules").joinpath("categories.json").read_text(encoding="utf-8"))
ALL_CATEGORIES: frozenset[str] = frozenset(c for group in CATEGORIES.values() for c in group)
_GROUP_OF = {category: group for group, members in CATEGORIES.items() for category in members}


def category_group(category: str) -> str:
    """The group of a category: "military", "civilian" or "review"; ValueError outside contract §4."""
    try:
        return _GROUP_OF[category]
    except KeyError:
        raise ValueError(f"unknown target category {category!r}") from None
