"""What changed between two JSON documents (two versions of a report, or of a policy), field by field."""
from dataclasses import dataclass

ABSENT = None  # what `before` or `after` holds for a field that one side does not have


@dataclass(frozen=True)
class Change:
    path: str  # dotted, as the API names fields: "target.lat", "evidence.0.uri", "zones[kursk-atacms].box"
    kind: str  # "added", "removed" or "changed"
    before: object = ABSENT
    after: object = ABSENT


def _is_keyed(items: list, key: str) -> bool:
    return all(isinstance(item, dict) and key in item for item in items) and \
        len({str(item[key]) for item in items}) == len(items)


def changes(before, after, path: str = "", key: str = "id") -> list[Change]:
    """Every leaf that differs. Lists of objects that all carry a distinct `key` (a policy's zones)
    are matched by it, so a zone inserted first is one addition, not every zone changed; other
    lists of objects are compared item by item, and lists of plain values as a whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for name in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}.{name}" if path else str(name)
            if name not in after:
                found.append(Change(sub, "removed", before=before[name]))
            elif name not in before:
                found.append(Change(sub, "added", after=after[name]))
            else:
                found += changes(before[name], after[name], sub, key)
        return found
    if isinstance(before, list) and isinstance(after, list):
        if _is_keyed(before, key) and _is_keyed(after, key):
            old, new = ({str(item[key]): item for item in side} for side in (before, after))
            return _keyed(old, new, path, key)
        if all(isinstance(item, dict) for item in before + after):
            found = []
            for index in range(max(len(before), len(after))):
                sub = f"{path}.{index}"
                if index >= len(after):
                    found.append(Change(sub, "removed", before=before[index]))
                elif index >= len(before):
                    found.append(Change(sub, "added", after=after[index]))
                else:
                    found += changes(before[index], after[index], sub, key)
            return found
    # 50 and 50.0 are one JSON number; True and 1 are not the same value.
    if before == after and isinstance(before, bool) == isinstance(after, bool):
        return []
    return [Change(path, "changed", before, after)]


def _keyed(old: dict, new: dict, path: str, key: str) -> list[Change]:
    found = []
    for name in [*old, *(k for k in new if k not in old)]:
        sub = f"{path}[{name}]"
        if name not in new:
            found.append(Change(sub, "removed", before=old[name]))
        elif name not in old:
            found.append(Change(sub, "added", after=new[name]))
        else:
            found += changes(old[name], new[name], sub, key)
    return found
