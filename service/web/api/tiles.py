"""The ledger as C2SP tlog-tiles under /v1/ledger: hash tiles for anyone, entry bundles for ledger readers."""
import gzip

from flask import Response, request
from werkzeug.routing import BaseConverter, PathConverter

from service.core.errors import InvalidInput
from service.core.ledger import tiles
from service.ledger import tiles as stored_tiles
from service.ledger.reads import signed_size
from service.web.api.common import problem, protected, rate_limited
from service.web.api.ledger import IMMUTABLE, READERS
from service.web.context import sessions
from service.web.http import Blueprint

blp = Blueprint("tiles", __name__, url_prefix="/v1/ledger",
                description="The ledger as C2SP tlog-tiles: <prefix> is /v1/ledger, so a tlog client reads "
                            "/v1/ledger/checkpoint, /v1/ledger/tile/<L>/<N>[.p/<W>] and "
                            "/v1/ledger/tile/entries/<N>[.p/<W>]")
# A tile of a given width never changes (tlog-tiles: "this endpoint is immutable"): IMMUTABLE.
OCTETS = "application/octet-stream"
# Gzip at level 6 keeps most of the gain on JSON entries for a fraction of level 9's time.
GZIP_LEVEL = 6


class TileLevel(BaseConverter):
    """Matches any one path segment, as the default converter does: the view answers a bad one with 400."""

    pattern = r"^(0|[1-9][0-9]?)$"
    example = {"example": "0"}


class TileIndex(PathConverter):
    """Matches the rest of the path; the pattern only documents tlog-tiles' <N>[.p/<W>] form."""

    pattern = r"^(x[0-9]{3}/)*[0-9]{3}(\.p/[1-9][0-9]{0,2})?$"
    example = {"example": "x001/x234/067.p/12"}  # slashes included: one parameter, several segments


def register_converters(app, api) -> None:
    """Before the blueprint: the OpenAPI document then says what a tile path looks like."""
    for name, converter in (("tile_level", TileLevel), ("tile_index", TileIndex)):
        app.url_map.converters[name] = converter
        api.register_converter(converter, lambda c: {"type": "string", "pattern": c.pattern, **c.example})


def _parsed(parse, text: str, field: str):
    try:
        return parse(text)
    except tiles.TileError as error:
        raise InvalidInput(str(error), errors={field: [str(error)]}) from error


def _octets(data: bytes) -> Response:
    response = Response(data, mimetype=OCTETS)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@blp.route("/tile/<tile_level:level>/<tile_index:index>")
@rate_limited(blp)
@blp.response(200, content_type=OCTETS, description="256 hashes (8,192 bytes), or W of a partial tile")
@problem(blp, 400, "Not a tile path of the tlog-tiles form (e.g. a leading zero, or x000/001 for 001)")
@problem(blp, 404, "The tile is beyond the latest checkpoint")
def hash_tile(level, index):
    """A Merkle tree tile: level 0 holds leaf hashes, level L hashes of full tiles of level L-1."""
    level_number = _parsed(tiles.parse_level, level, "level")
    n, width = _parsed(tiles.parse_index, index, "index")
    with sessions()() as session:
        size, _ = signed_size(session)
        return _octets(stored_tiles.hash_tile(session, level_number, n, width, size))


@blp.route("/tile/entries/<tile_index:index>")
@protected(blp, *READERS)
@blp.response(200, content_type=OCTETS, description="Entries as big-endian uint16 length || canonical bytes")
@problem(blp, 400, "Not a tile path of the tlog-tiles form (e.g. a leading zero, or x000/001 for 001)")
@problem(blp, 404, "The bundle is beyond the latest checkpoint, or holds an entry too long for a bundle")
def entry_bundle(index):
    """An entry bundle: the canonical bytes of up to 256 consecutive entries (gzip if accepted)."""
    n, width = _parsed(tiles.parse_index, index, "index")
    with sessions()() as session:
        size, _ = signed_size(session)
        data = stored_tiles.entry_bundle(session, n, width, size)
    response = _octets(data)
    response.vary.add("Accept-Encoding")
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response
