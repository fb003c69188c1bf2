"""Ledger entries and proofs as served (contract §7); hashes are standard base64."""
from marshmallow import Schema, fields


class EntrySchema(Schema):
    index = fields.Integer(required=True)
    entry_type = fields.String(required=True)
    leaf_hash = fields.String(required=True)
    entry = fields.Dict(required=True)
    canonical = fields.String(required=True, metadata={"description": "base64 of the RFC 8785 bytes"})


class EntryListSchema(Schema):
    tree_size = fields.Integer(required=True)
    entries = fields.List(fields.Nested(EntrySchema), required=True)


class InclusionProofSchema(Schema):
    index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    leaf_hash = fields.String(required=True)
    proof = fields.List(fields.String(), required=True)


class ConsistencyProofSchema(Schema):
    first = fields.Integer(required=True)
    second = fields.Integer(required=True)
    proof = fields.List(fields.String(), required=True)


class CheckpointRefSchema(Schema):
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True)
    note = fields.String(required=True, metadata={"description": "the signed note itself"})
