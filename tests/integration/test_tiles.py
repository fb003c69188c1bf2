"""tlog-tiles over HTTP: the root recomputed from the tiles alone by an independent reader, entry
bundles that hash to the level-0 tiles, caching headers, access, and strict paths."""
import base64
import gzip

import pytest

from service.ledger import sequencer
from tests import tlog_reference as ref

from ..helpers import make_event

PREFIX = "/v1/ledger/"


@pytest.fixture
def grown(app, client, keys):
    """A ledger past one full tile: each report adds its received and evaluation entries."""
    events = [make_event(f"tiles-{i:04d}") for i in range(160)]
    answer = client.post("/v1/events/batch", json={"events": events}, headers=keys.reporter)
    assert answer.status_code == 200, answer.get_json()
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    return app


def _checkpoint(client) -> tuple[int, bytes]:
    body, _ = ref.split_note(client.get(PREFIX + "checkpoint").get_data(as_text=True))
    _, size, root = ref.checkpoint_fields(body)
    return size, root


def test_an_independent_reader_recomputes_the_root_from_the_tiles_alone(grown, client):
    size, root = _checkpoint(client)
    assert size > 256  # one full level-0 tile, a partial one, and a partial level-1 tile of width 1
    fetched = []

    def get(path):
        answer = client.get(PREFIX + path)
        assert answer.status_code == 200, (path, answer.get_data(as_text=True))
        assert answer.mimetype == "application/octet-stream"
        fetched.append(path)
        return answer.get_data()

    assert ref.root_from_tiles(size, get) == root
    assert "tile/1/000.p/1" in fetched
    # Smaller trees read partial tiles of other widths, all still served.
    full = get("tile/0/000")
    assert ref.root_from_tiles(200, get) == ref.mth([full[i:i + 32] for i in range(0, 200 * 32, 32)])


def test_entry_bundles_hash_to_the_level_0_tiles(grown, client, keys):
    size, _ = _checkpoint(client)
    width = size - 256
    for path, count in (("000", 256), (f"001.p/{width}", width)):
        tile = client.get(f"{PREFIX}tile/0/{path}").get_data()
        bundle = client.get(f"{PREFIX}tile/entries/{path}", headers=keys.auditor)
        assert bundle.status_code == 200
        entries = ref.bundle_entries(bundle.get_data())
        assert len(entries) == count
        assert [ref.leaf(e) for e in entries] == [tile[i:i + 32] for i in range(0, len(tile), 32)]
    # The same bytes as the ledger API's canonical form of entry 0.
    entry = client.get(f"{PREFIX}entries/0", headers=keys.auditor).get_json()
    first = ref.bundle_entries(client.get(f"{PREFIX}tile/entries/000", headers=keys.auditor).get_data())[0]
    assert base64.b64decode(entry["canonical"]) == first


def test_caching_headers_follow_the_spec(grown, client, keys):
    checkpoint = client.get(PREFIX + "checkpoint")
    assert checkpoint.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert checkpoint.headers["Cache-Control"] == "no-cache"
    for path in ("tile/0/000", "tile/0/001.p/3", "tile/1/000.p/1"):
        assert client.get(PREFIX + path).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    zipped = client.get(PREFIX + "tile/entries/000", headers={**keys.auditor, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    plain = client.get(PREFIX + "tile/entries/000", headers=keys.auditor)
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    # Fetched with a key, a bundle is never kept by a shared cache (the service's rule for keyed answers).
    assert plain.headers["Cache-Control"] == "no-store"


def test_entry_bundles_are_for_ledger_readers_only(grown, client, keys):
    assert client.get(PREFIX + "tile/entries/000").status_code == 401
    assert client.get(PREFIX + "tile/entries/000", headers=keys.reporter).status_code == 403
    assert client.get(PREFIX + "tile/entries/000", headers=keys.admin).status_code == 200


@pytest.mark.parametrize("path", ["tile/01/000", "tile/0/0", "tile/0/x000/001", "tile/0/000.p/0",
                                  "tile/0/000.p/256", "tile/0/000.p/07", "tile/64/000", "tile/0/1000"])
def test_malformed_tile_paths_are_400(grown, client, path):
    answer = client.get(PREFIX + path)
    assert answer.status_code == 400, path
    assert answer.mimetype == "application/problem+json"


def test_tiles_beyond_the_checkpoint_are_404(grown, client, keys):
    size, _ = _checkpoint(client)
    assert client.get(f"{PREFIX}tile/0/001").status_code == 404  # not full yet
    assert client.get(f"{PREFIX}tile/0/001.p/{size - 256 + 1}").status_code == 404
    assert client.get(f"{PREFIX}tile/2/000.p/1").status_code == 404
    assert client.get(f"{PREFIX}tile/entries/002.p/1", headers=keys.auditor).status_code == 404
