"""The proof reader's node cache: only upper levels, at most its limit, the least recently used out first."""
from service.ledger.proofs import NodeCache


def test_only_upper_levels_are_kept_and_the_least_recently_used_go_first():
    cache = NodeCache(min_level=2, limit=3)
    cache.put({(1, 0): b"a", (2, 0): b"b", (2, 1): b"c", (3, 0): b"d"})
    assert list(cache.nodes) == [(2, 0), (2, 1), (3, 0)]
    found, missing = cache.split([(2, 0), (1, 0), (4, 0)])  # (2, 0) is now the most recently used
    assert found == {(2, 0): b"b"} and missing == [(1, 0), (4, 0)]
    cache.put({(4, 0): b"e"})
    assert list(cache.nodes) == [(3, 0), (2, 0), (4, 0)]  # (2, 1) went: used least recently
    assert len(cache.nodes) <= cache.limit
