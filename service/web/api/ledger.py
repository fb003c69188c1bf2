"""The verifiable ledger (contract §7): checkpoint, public key, entries, inclusion and consistency proofs."""
from flask import Response, current_app
from flask.views import MethodView
from marshmallow import Schema

from service.core.errors import InvalidInput, NotFound, Unavailable
from service.ledger.cosigned import published_checkpoint
from service.ledger.reads import consistency_view, entries_between, inclusion_view, require_within, signed_size
from service.web.api.common import problem, protected, rate_limited
from service.web.context import sessions
from service.web.http import Blueprint
from service.web.schemas.fields import Count
from service.web.schemas.ledger import ConsistencyProofSchema, EntryListSchema, EntrySchema, InclusionProofSchema

blp = Blueprint("ledger", __name__, url_prefix="/v1/ledger", description="The append-only, verifiable ledger")
READERS = ("auditor", "admin")
MAX_ENTRIES = 1000


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
def inclusion(args):
    """RFC 9162 inclusion proof of leaf `index` in the tree of `tree_size` leaves."""
    with sessions()() as session:
        size, _ = signed_size(session)
        tree_size = args.get("tree_size", size)
        require_within("tree_size", tree_size, size)
        if args["index"] >= tree_size:
            raise InvalidInput("index must be below tree_size.", errors={"index": [f"must be < {tree_size}"]})
        return inclusion_view(session, args["index"], tree_size)


@blp.route("/proofs/consistency")
@rate_limited(blp)
@blp.arguments(ConsistencyArgs(), location="query")
@blp.response(200, ConsistencyProofSchema)
def consistency(args):
    """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
    with sessions()() as session:
        size, _ = signed_size(session)
        second = args.get("second", size)
        require_within("second", second, size)
        if not 0 < args["first"] <= second:
            raise InvalidInput("first must be between 1 and second.",
                                    errors={"first": [f"must be between 1 and {second}"]})
        return consistency_view(session, args["first"], second)
