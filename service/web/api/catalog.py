"""The munition catalog and target categories the rules use."""
from flask.views import MethodView
from marshmallow import Schema, fields

from service.core.rules.categories import CATEGORIES
from service.policies.store import munition_catalog
from service.web.api.common import ANY_ROLE, protected
from service.web.context import sessions
from service.web.http import Blueprint

blp = Blueprint("catalog", __name__, url_prefix="/v1/catalog", description="Munitions and target categories")


class MunitionSchema(Schema):
    code = fields.String(required=True)
    family = fields.String(required=True)
    max_range_km = fields.Float(required=True)


class MunitionListSchema(Schema):
    munitions = fields.List(fields.Nested(MunitionSchema), required=True)


class CategorySchema(Schema):
    category = fields.String(required=True)
    group = fields.String(required=True, metadata={"enum": sorted(CATEGORIES)})


class CategoryListSchema(Schema):
    categories = fields.List(fields.Nested(CategorySchema), required=True)


@blp.route("/munitions")
class Munitions(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, MunitionListSchema)
    def get(self):
        """The munition catalog: family and maximum range of each code."""
        with sessions()() as session:
            catalog = munition_catalog(session)
        return {"munitions": [vars(m) for m in sorted(catalog.values(), key=lambda m: m.code)]}


@blp.route("/categories")
class Categories(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, CategoryListSchema)
    def get(self):
        """Target categories and their group: military, civilian (prohibited everywhere) or review."""
        return {"categories": [{"category": c, "group": group}
                               for group, members in CATEGORIES.items() for c in members]}
