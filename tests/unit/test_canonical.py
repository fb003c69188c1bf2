"""The fast canonicalizer writes exactly the bytes of RFC 8785's reference (`rfc8785`), or defers to it."""
import json
import math
import struct

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.core.ledger.canonical import canonical_bytes


def reference(document):
    try:
        return rfc8785.dumps(document)
    except Exception as error:  # what the reference refuses, the fast path must refuse alike
        return type(error)


def fast(document):
    try:
        return canonical_bytes(document)
    except Exception as error:
        return type(error)


# Floats across every exponent: any 64-bit pattern that is a finite double, and plain decimals.
finite_doubles = st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0]) \
    .filter(math.isfinite)
numbers = st.one_of(finite_doubles, st.floats(allow_nan=False, allow_infinity=False),
                    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(float),
                    st.integers(-2**70, 2**70), st.integers(-2**53 + 1, 2**53 - 1))
texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.text(alphabet="aé\u00ff\u0100\uffff\U0001f600\x00\n\"\\", max_size=6)
scalars = st.none() | st.booleans() | numbers | texts
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
                         max_leaves=40)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
@example({"\U0001f600": 1, "\ufb33": 2, "a": 3})  # UTF-16 order puts the surrogate pair first
@example([1e21, 1e-6, 1e-7, 9.999999999999999e20, 5e-324, -0.0, 2.0**53, 2.0**53 + 2, 0.1 + 0.2])
@example([2**53 - 1, 2**53, -(2**53), 10**30])
def test_every_document_has_the_reference_bytes(document):
    assert fast(document) == reference(document)


def test_deep_nesting_has_the_reference_bytes():
    document = {"a": [1.5]}
    for depth in range(200):
        document = {f"k{depth}": [document, depth + 0.25]}
    assert canonical_bytes(document) == rfc8785.dumps(document)


# RFC 8785 appendix B: IEEE 754 doubles (as hex bit patterns) and the text JCS writes for each.
APPENDIX_B = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("bits, text", APPENDIX_B)
def test_rfc8785_number_examples(bits, text):
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical_bytes(value) == text.encode() == rfc8785.dumps(value)


def test_rfc8785_structured_example():
    """Appendix: the sample object of §3.2.2 (literals, numbers, strings with escapes) and its bytes."""
    document = json.loads('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
                          ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
                          ' "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}').encode()
    assert canonical_bytes(document) == expected == rfc8785.dumps(document)


def test_sorting_by_utf16_code_units():
    """§3.2.3's sorting example: keys compared as UTF-16 code units, not code points."""
    document = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    assert canonical_bytes(document) == rfc8785.dumps(document)
    assert list(json.loads(canonical_bytes(document))) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600",
                                                          "\ufb33"]
