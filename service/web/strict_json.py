"""A JSON reader that refuses what RFC 8259 leaves ambiguous: duplicate keys, NaN, deep nesting, NUL."""
import json

MAX_DEPTH = 32


class JSONRejected(ValueError):
    """The body is not JSON we accept; the message says why, for the client."""


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise JSONRejected(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _no_constants(name):
    raise JSONRejected(f"{name} is not a JSON number")


def _check_tree(document, max_depth: int, text: str) -> None:
    """No NUL in any string (PostgreSQL cannot store one, and no report needs it), and the depth.

    A NUL can only come from a `\\u0000` escape (JSON refuses raw control characters), so only a text
    holding one has its strings read. Depth is counted over containers alone, recursing at most
    `max_depth` deep: a hostile document cannot exhaust the Python stack.
    """
    if "\\u0000" in text and _has_nul(document):
        raise JSONRejected("strings may not contain U+0000")
    if isinstance(document, (dict, list)) and _deeper_than(document, max_depth - 1):
        raise JSONRejected(f"nesting deeper than {max_depth} levels")


def _has_nul(node) -> bool:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _deeper_than(container, levels_left: int) -> bool:
    """Whether `container` holds containers nested more than `levels_left` levels below it."""
    for child in container.values() if isinstance(container, dict) else container:
        if isinstance(child, (dict, list)) and (levels_left == 0 or _deeper_than(child, levels_left - 1)):
            return True
    return False


def loads_strict(data, max_depth: int = MAX_DEPTH):
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JSONRejected("body is not UTF-8") from error
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RecursionError as error:
        raise JSONRejected(f"nesting deeper than {max_depth} levels") from error
    except JSONRejected:
        raise
    except ValueError as error:
        raise JSONRejected(f"malformed JSON: {error}") from error
    _check_tree(document, max_depth, data)
    return document
