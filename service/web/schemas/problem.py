"""RFC 9457 problem details, the body of every error response."""
from marshmallow import Schema, fields


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "messages by field path, e.g. target.lat"})
    request_id = fields.String()
