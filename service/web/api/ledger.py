"""The verifiable ledger (contract §7): checkpoint, public key, entries, inclusion and consistency proofs."""
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema
from werkzeug.http import generate_etag, quote_etag

from service.core.errors import InvalidInput, NotFound, Unavailable
from service.ledger.cosigned import published_checkpoint
from service.ledger.reads import entries_between, require_within, signed_size
from service.web.api.common import problem, protected, rate_limited
from service.web.context import sessions
from service.web.http import Blueprint
from service.web.schemas.fields import Count
from service.web.schemas.ledger import ConsistencyProofSchema, EntryListSchema, EntrySchema, InclusionProofSchema

blp = Blueprint("ledger", __name__, url_prefix="/v1/ledger", description="The append-only, verifiable ledger")
READERS = ("auditor", "admin")
MAX_ENTRIES = 1000
# What never changes may be kept by anyone for a year (tlog-tiles' tiles; a proof for a given size).
IMMUTABLE = "public, max-age=31536000, immutable"


class EntryRangeArgs(Schema):
    start = Count(load_default=0)
    end = Count(metadata={"description": "exclusive; at most start + 1000; default min(start + 1000, tree size)"})


class InclusionArgs(Schema):
    index = Count(required=True)
    tree_size = Count(metadata={"description": "default: the latest checkpoint's size"})


class ConsistencyArgs(Schema):
    first = Count(required=True)
    second = Count(metadata={"description": "default: the latest checkpoint's size"})


def _plain(text: str) -> Response:
    return Response(text, mimetype="text/plain")


def _proof(proof: dict, size_given: bool) -> Response:
    """The proof as JSON (the schema only documents it: dumping it again cost more than the proof's
    statement), with what a client or proxy may keep: a proof for a given size never changes, as the tree
    is append-only; one against the latest changes as the log grows. A matching If-None-Match gets a 304
    (compared here: Response.make_conditional also weighs ranges and dates, a third of the proof's time)."""
    response = current_app.json.response(proof)
    headers = {"Cache-Control": IMMUTABLE if size_given else "no-cache",
               "ETag": quote_etag(generate_etag(response.get_data()))}
    if request.if_none_match.contains(headers["ETag"][1:-1]):
        return Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


@blp.route("/checkpoint")
@rate_limited(blp)
@blp.response(200, content_type="text/plain", description="C2SP tlog-checkpoint as a signed note, with the "
              "witnesses' cosignature lines (tlog-cosignature) under the log's signature")
def checkpoint():
    """The newest checkpoint carrying the witness quorum (with none configured: the newest signed)."""
    with sessions()() as session:
        published = published_checkpoint(session, current_app.extensions["witness_policy"])
    if published is None:
        raise Unavailable("No checkpoint carries the witness quorum yet (or none is signed yet).", retry_after=1)
    response = _plain(published.note)
    response.headers["Cache-Control"] = "no-cache"  # tlog-tiles: mutable, not cached beyond a few seconds
    return response


@blp.route("/public-key")
@rate_limited(blp)
@blp.response(200, content_type="text/plain", description="signed-note verifier key: <name>+<hex key id>+<base64>")
def public_key():
    """The verifier key for checkpoint signatures."""
    return _plain(current_app.extensions["ledger_signer"].verifier_key + "\n")


@blp.route("/entries")
class Entries(MethodView):
    @protected(blp, *READERS)
    @blp.arguments(EntryRangeArgs(), location="query")
    @blp.response(200, EntryListSchema)
    def get(self, args):
        """Integrated entries [start, end), at most 1000."""
        with sessions()() as session:
            size, _ = signed_size(session)
            start, end = args["start"], args.get("end", min(args["start"] + MAX_ENTRIES, size))
            if end < start or end - start > MAX_ENTRIES:
                raise InvalidInput("end must be ≥ start and at most start + 1000.",
                                        errors={"end": [f"must be between {start} and {start + MAX_ENTRIES}"]})
            require_within("end", end, size)
            return {"tree_size": size, "entries": entries_between(session, start, end)}


@blp.route("/entries/<int:index>")
class EntryByIndex(MethodView):
    @protected(blp, *READERS)
    @blp.response(200, EntrySchema)
    @problem(blp, 404, "No integrated entry at that index")
    def get(self, index):
        """One integrated entry with its canonical bytes."""
        with sessions()() as session:
            size, _ = signed_size(session)
            found = entries_between(session, index, index + 1) if index < size else []
        if not found:
            raise NotFound(f"no integrated entry at index {index} (tree size {size})")
        return found[0]


@blp.route("/proofs/inclusion")
@rate_limited(blp)
@blp.arguments(InclusionArgs(), location="query")
@blp.response(200, InclusionProofSchema)
@blp.alt_response(304, description="Not modified: the proof has the ETag sent in If-None-Match")
def inclusion(args):
    """RFC 9162 inclusion proof of leaf `index` in the tree of `tree_size` leaves."""
    given = args.get("tree_size")
    return _proof(current_app.extensions["ledger_proofs"].inclusion(args["index"], given), given is not None)


@blp.route("/proofs/consistency")
@rate_limited(blp)
@blp.arguments(ConsistencyArgs(), location="query")
@blp.response(200, ConsistencyProofSchema)
@blp.alt_response(304, description="Not modified: the proof has the ETag sent in If-None-Match")
def consistency(args):
    """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
    given = args.get("second")
    return _proof(current_app.extensions["ledger_proofs"].consistency(args["first"], given), given is not None)
