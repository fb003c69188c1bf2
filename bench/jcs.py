"""RFC 8785 (JCS) bytes through Python's C JSON encoder, for the bulk loader.

service.core.ledger.canonical uses `rfc8785`, a pure-Python serializer that would take most of a
million-report load. The C encoder with sorted keys, no spaces and no ASCII escaping writes the
same bytes as JCS except in three places, handled here: an integral float prints as an integer in
JCS ("80", not "80.0"), so it is passed as one; a float below 1e-4 or from 1e21 up prints with an
exponent in one and not the other, and keys outside the BMP sort differently (UTF-16 order), so
such documents go to `rfc8785` itself. The loader also checks a sample of its entries against
`rfc8785` and stops at the first difference.
"""
import json

import rfc8785

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")).encode
_SAFE_INT = 2**53 - 1  # I-JSON's range, which rfc8785 enforces


class _NeedsReference(Exception):
    """A value the C encoder would write differently from JCS."""


def _as_jcs_prints(value):
    kind = type(value)  # exact types first: most values are strings, and subclasses go the slow way
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                raise _NeedsReference
        return {key: _as_jcs_prints(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_as_jcs_prints(item) for item in value]
    if kind is float:
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        if not 1e-4 <= abs(value) < 1e21:  # NaN and infinities too (rfc8785 refuses them)
            raise _NeedsReference
        return value
    if kind is int and abs(value) <= _SAFE_INT:
        return value
    raise _NeedsReference


def canonical_bytes(document) -> bytes:
    """The same bytes as service.core.ledger.canonical.canonical_bytes(document), faster."""
    try:
        return _encode(_as_jcs_prints(document)).encode("utf-8")
    except (_NeedsReference, ValueError, UnicodeEncodeError):
        return rfc8785.dumps(document)  # the reference: its answer or its error
