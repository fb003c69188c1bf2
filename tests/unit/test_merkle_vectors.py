"""Every transparency-dev RFC 6962/9162 proof vector through the verifiers."""
import base64
import json
from pathlib import Path

import pytest

from service.core.ledger.merkle import ProofError, verify_consistency, verify_inclusion

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "rfc9162-vectors"


def _cases(kind: str) -> list:
    folder = VECTORS / kind
    # Fail at collection, not skip: a missing vector set must never look green.
    if not folder.is_dir():
        raise FileNotFoundError(f"RFC 9162 vectors missing: {folder}")
    files = sorted(folder.rglob("*.json"))
    if not files:
        raise FileNotFoundError(f"no vectors under {folder}")
    return [
        pytest.param(json.loads(f.read_text()), id=str(f.relative_to(folder).with_suffix("")))
        for f in files
    ]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_inclusion_vector(case):
    def run():
        verify_inclusion(
            _b64(case["leafHash"]),
            case["leafIdx"],
            case["treeSize"],
            [_b64(p) for p in case["proof"] or []],
            _b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


@pytest.mark.parametrize("case", _cases("consistency"))
def test_consistency_vector(case):
    def run():
        verify_consistency(
            case["size1"],
            case["size2"],
            _b64(case["root1"]),
            _b64(case["root2"]),
            [_b64(p) for p in case["proof"] or []],
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


def test_vector_set_is_complete():
    """Guards against a silently truncated copy of the vectors."""
    assert len(_cases("inclusion")) + len(_cases("consistency")) == 196
