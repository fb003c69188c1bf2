"""Policy versions: bundled or published by admins, immutable once published, simulated on demand."""
from flask import g, request
from flask.views import MethodView

from service.policies.simulation import simulate
from service.policies.store import publish_version, published_version, published_versions
from service.policies.tables import PolicyVersion
from service.web.access_log import note_read
from service.web.api.common import ANY_ROLE, problem, protected
from service.web.context import sessions
from service.web.http import Blueprint
from service.web.schemas.policies import (PolicyDocumentSchema, PolicyListSchema, PolicySchema, SimulationQuerySchema,
                                          SimulationSchema)

blp = Blueprint("policies", __name__, url_prefix="/v1/policies", description="Authorized-use policy versions")


def _policy(row: PolicyVersion) -> dict:
    return {"id": row.id, "effective_from": row.effective_from, "effective_to": row.effective_to,
            "sha256": row.sha256, "published_at": row.published_at, "published_by": row.published_by,
            "document": row.document}


@blp.route("")
class Policies(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, PolicyListSchema)
    def get(self):
        """Every published policy version, oldest first."""
        with sessions()() as session:
            policies = [_policy(row) for row in published_versions(session)]
        note_read(len(policies))
        return {"policies": policies}

    @protected(blp, "admin")
    @blp.arguments(PolicyDocumentSchema())
    @blp.response(201, PolicySchema, description="Published: stored, and a `policy_published` ledger entry")
    @blp.alt_response(200, schema=PolicySchema, description="The same document again: the stored version")
    @problem(blp, 409, "The id is published with other content, or the effective range overlaps a version")
    def post(self, _document):
        """Publish a new policy version; it judges every event reported from then on in its range.

        Stored exactly as sent. Denied families must be in the stored munition catalog (400); the same
        document again is a 200 with the stored version; the same id with other content, or an
        effective range overlapping a published version (half-open, null = open-ended), is a 409.
        """
        # The body as sent, not the loaded `_document` (whose timestamps are datetimes): the stored
        # document and its SHA-256 must be exactly what the admin published.
        with sessions()() as session, session.begin():
            row, created = publish_version(session, request.get_json(), g.principal.name)
            body = _policy(row)
        return body, 201 if created else 200, {"Location": f"/v1/policies/{row.id}"} if created else {}


@blp.route("/<policy_id>")
class PolicyById(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, PolicySchema)
    @problem(blp, 404, "No such policy version")
    def get(self, policy_id):
        """One policy version with its document and hash."""
        with sessions()() as session:
            row = published_version(session, policy_id)
        note_read(1)
        return _policy(row)


@blp.route("/<policy_id>/simulate")
class Simulation(MethodView):
    @protected(blp, "auditor", "admin")
    @blp.arguments(SimulationQuerySchema(), location="query")
    @blp.response(200, SimulationSchema)
    @problem(blp, 404, "No such policy version")
    def post(self, period, policy_id):
        """What the stored events of a period would get under this version; writes nothing.

        Every event whose latest version has `occurred_at` in [occurred_from, occurred_to) is judged
        under this version, whatever its own effective range, with the geography computed when it
        was judged. At most 10,000 events: a period holding more is a 400 asking for a shorter one.
        """
        with sessions()() as session:
            result = simulate(session, policy_id, period["occurred_from"], period["occurred_to"])
        note_read(len(result["results"]))  # a POST that only reads: its access entry, like any auditor read
        return result
