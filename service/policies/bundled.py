"""The bundled data files: the published policy versions and the munition catalog."""
import copy
import json
from datetime import datetime
from functools import cache
from importlib.resources import files

_DATA = files("service.policies").joinpath("bundled")


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
