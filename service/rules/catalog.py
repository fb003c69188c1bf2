"""The bundled data files: policy versions, munition catalog and target categories."""
import copy
import json
from datetime import datetime
from functools import cache
from importlib.resources import files

_DATA = files("service.policies")


@cache
def _bundled_policies() -> tuple[dict, ...]:
    documents = [json.loads(entry.read_text(encoding="utf-8"))
                 for entry in _DATA.joinpath("versions").iterdir() if entry.name.endswith(".json")]
    return tuple(sorted(documents, key=lambda doc: datetime.fromisoformat(doc["effective_from"])))


@cache
def _bundled_munitions() -> tuple[dict, ...]:
    return tuple(json.loads(_DATA.joinpath("munitions.json").read_text(encoding="utf-8"))["munitions"])


# Callers get copies: a caller editing a document must not change what every later caller sees.
def bundled_policies() -> list[dict]:
    """The bundled policy version documents, oldest effective_from first."""
    return copy.deepcopy(list(_bundled_policies()))


def bundled_munitions() -> list[dict]:
    """The bundled munition catalog: [{code, family, max_range_km}, ...]."""
    return copy.deepcopy(list(_bundled_munitions()))


CATEGORIES: dict[str, list[str]] = json.loads(_DATA.joinpath("categories.json").read_text(encoding="utf-8"))
ALL_CATEGORIES: frozenset[str] = frozenset(c for group in CATEGORIES.values() for c in group)
_GROUP_OF = {category: group for group, members in CATEGORIES.items() for category in members}


def category_group(category: str) -> str:
    """The group of a category: "military", "civilian" or "review"; ValueError outside SPEC §4."""
    try:
        return _GROUP_OF[category]
    except KeyError:
        raise ValueError(f"unknown target category {category!r}") from None
