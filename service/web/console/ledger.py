"""The ledger as anyone outside can see it: the latest checkpoint, its key, and how to check them."""
from flask import current_app, request, url_for

from service.ledger.reads import checkpoint_view, signed_size
from service.web.access_log import note_no_records_read
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.context import sessions


@bp.get("/ledger")
@signin.signed_in()
def ledger():
    with sessions()() as session:
        _, checkpoint = signed_size(session)
    note_no_records_read()  # the checkpoint and the key are public: the API's own reads of them are open
    signer = current_app.extensions["ledger_signer"]
    return page("ledger.html", checkpoint=checkpoint_view(checkpoint) if checkpoint else None,
                signed_at=checkpoint.signed_at if checkpoint else None, verifier_key=signer.verifier_key,
                base_url=request.host_url.rstrip("/"),
                proof={"entries": [], "shown": {}, "urls": {"checkpoint": url_for("ledger.checkpoint"),
                                                            "public_key": url_for("ledger.public_key"),
                                                            "inclusion": url_for("ledger.inclusion")}})
