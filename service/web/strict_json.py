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


def _check_tree(document, max_depth: int) -> None:
    """Depth, and no NUL in any string: PostgreSQL cannot store one, and no report needs it."""
    stack = [(document, 1)]  # iterative, so a hostile document cannot exhaust the Python stack
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise JSONRejected("strings may not contain U+0000")
            continue
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise JSONRejected(f"nesting deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


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
    _check_tree(document, max_depth)
    return document
