"""Policy versions: bundled, immutable once published, each judged events by its SHA-256."""
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from ..errors import NotFound
from ..http import Blueprint
from ..models import PolicyVersion
from ..schemas.fields import OffsetDateTime
from .common import ANY_ROLE, problem, protected, sessions

blp = Blueprint("policies", __name__, url_prefix="/v1/policies", description="Authorized-use policy versions")


class PolicySchema(Schema):
    id = fields.String(required=True)
    effective_from = OffsetDateTime(required=True)
    effective_to = OffsetDateTime(required=True, allow_none=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the RFC 8785 bytes of `document`"})
    published_at = OffsetDateTime(required=True)
    published_by = fields.String(required=True)
    document = fields.Dict(required=True, metadata={"description": "zones, depths, denied families, source"})


class PolicyListSchema(Schema):
    policies = fields.List(fields.Nested(PolicySchema), required=True)


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
            rows = session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective_from))
            return {"policies": [_policy(row) for row in rows]}


@blp.route("/<policy_id>")
class PolicyById(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, PolicySchema)
    @problem(blp, 404, "No such policy version")
    def get(self, policy_id):
        """One policy version with its document and hash."""
        with sessions()() as session:
            row = session.get(PolicyVersion, policy_id)
            if row is None:
                raise NotFound(f"no policy version {policy_id}")
            return _policy(row)
