"""Policy version documents as admins publish them: the schema's rules and polygon zones."""
import copy

import pytest

from service.core.rules.model import Policy, Zone
from service.policies.bundled import bundled_policies
from service.policies.store import unknown_family_errors
from service.web.errors import flatten_errors
from service.web.schemas.policies import PolicyDocumentSchema

PERMITTED = ["incoming_missile", "strike_aircraft", "force_concentration", "launch_site", "command_post",
             "military_logistics"]
# A diamond around (37.0, 50.8) with a square hole, and the same shell as a MultiPolygon.
SHELL = [[37.0, 50.3], [37.5, 50.8], [37.0, 51.3], [36.5, 50.8], [37.0, 50.3]]
HOLE = [[36.9, 50.7], [37.1, 50.7], [37.1, 50.9], [36.9, 50.9], [36.9, 50.7]]
DIAMOND = {"type": "Polygon", "coordinates": [SHELL, HOLE]}
FAMILIES = {"GMLRS", "ATACMS", "GLSDB", "ARTILLERY-155", "JDAM", "PATRIOT", "NASAMS"}


def document(**changes) -> dict:
    """A valid document with one box zone and one polygon zone; `changes` edit it by dotted path."""
    doc = {
        "id": "test-2021-01-01-polygon",
        "title": "Test version",
        "effective_from": "2021-01-01T00:00:00Z",
        "effective_to": "2022-06-01T00:00:00Z",
        "source": {"citation": "A test citation.", "reported": "2021-01-01", "url": "https://example.org/p"},
        "permitted_purposes": list(PERMITTED),
        "zones": [
            {"id": "box-zone", "box": {"min_lon": 35.5, "min_lat": 49.8, "max_lon": 38.3, "max_lat": 51.4},
             "max_depth_km": 80, "denied_families": ["ATACMS"]},
            {"id": "polygon-zone", "polygon": copy.deepcopy(DIAMOND), "max_depth_km": 150,
             "denied_families": []},
        ],
    }
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return doc


DELETE = object()


def errors_of(doc) -> dict[str, list[str]]:
    return flatten_errors(PolicyDocumentSchema().validate(doc))


def test_a_valid_document_and_every_bundled_document_pass():
    assert errors_of(document()) == {}
    for doc in bundled_policies():
        assert errors_of(doc) == {}, doc["id"]


def test_optional_source_fields_and_open_end():
    assert errors_of(document(**{"source.url": DELETE, "source.reported": DELETE, "effective_to": None})) == {}


@pytest.mark.parametrize("changes, path", [
    ({"id": "ab"}, "id"),
    ({"id": "Upper-case"}, "id"),
    ({"id": "-leading-dash"}, "id"),
    ({"id": "a" * 129}, "id"),
    ({"id": DELETE}, "id"),
    ({"title": ""}, "title"),
    ({"effective_from": "2021-01-01T00:00:00"}, "effective_from"),
    ({"effective_from": "2021-01-01"}, "effective_from"),
    ({"effective_to": "not a time"}, "effective_to"),
    ({"effective_to": "2022-06-01t00:00:00z"}, "effective_to"),  # Policy.from_document reads upper case
    ({"effective_to": DELETE}, "effective_to"),
    ({"effective_to": "2021-01-01T00:00:00Z"}, "effective_to"),  # not after effective_from
    ({"effective_to": "2021-01-01T02:00:00+02:00"}, "effective_to"),  # the same instant as effective_from
    ({"source": DELETE}, "source"),
    ({"source.citation": DELETE}, "source.citation"),
    ({"source.citation": "  "}, "source.citation"),
    ({"source.reported": "last week"}, "source.reported"),
    ({"source.url": "ftp://example.org/x"}, "source.url"),
    ({"source.publisher": "x"}, "source.publisher"),
    ({"permitted_purposes": ["residential"]}, "permitted_purposes.0"),
    ({"permitted_purposes": ["tank"]}, "permitted_purposes.0"),
    ({"permitted_purposes": ["launch_site", "launch_site"]}, "permitted_purposes"),
    ({"zones": None}, "zones"),
    ({"zones.0.id": "Box Zone"}, "zones.0.id"),
    ({"zones.1.id": "box-zone"}, "zones.1.id"),  # ids are unique within the document
    ({"zones.0.box.min_lon": -181}, "zones.0.box.min_lon"),
    ({"zones.0.box.max_lat": 90.5}, "zones.0.box.max_lat"),
    ({"zones.0.box.min_lat": "49.8"}, "zones.0.box.min_lat"),
    ({"zones.0.box.min_lon": 38.3}, "zones.0.box.min_lon"),  # min must be < max
    ({"zones.0.box.min_lat": 51.5}, "zones.0.box.min_lat"),
    ({"zones.0.box.max_lon": DELETE}, "zones.0.box.max_lon"),
    ({"zones.0.box.depth": 1}, "zones.0.box.depth"),
    ({"zones.0.box": DELETE}, "zones.0.box"),  # neither box nor polygon
    ({"zones.0.polygon": copy.deepcopy(DIAMOND)}, "zones.0.polygon"),  # both
    ({"zones.1.box": None}, "zones.1.polygon"),  # both, even with box null
    ({"zones.1.polygon": None}, "zones.1.polygon"),
    ({"zones.0.max_depth_km": 0}, "zones.0.max_depth_km"),
    ({"zones.0.max_depth_km": -5}, "zones.0.max_depth_km"),
    ({"zones.0.max_depth_km": 2000.5}, "zones.0.max_depth_km"),
    ({"zones.0.max_depth_km": True}, "zones.0.max_depth_km"),
    ({"zones.0.denied_families": DELETE}, "zones.0.denied_families"),
    ({"zones.0.denied_families": ["ATACMS", "ATACMS"]}, "zones.0.denied_families"),
    ({"zones.0.denied_families": [""]}, "zones.0.denied_families.0"),
    ({"zones.0.colour": "red"}, "zones.0.colour"),
    ({"extra": 1}, "extra"),
])
def test_each_rule_is_reported_at_its_path(changes, path):
    errors = errors_of(document(**changes))
    assert path in errors, errors
    assert all(messages for messages in errors.values())


def test_effective_range_compares_instants_not_text():
    assert errors_of(document(effective_to="2020-12-31T23:00:00-02:00")) == {}  # 01:00Z, after 00:00Z


def test_every_error_is_reported_at_once():
    errors = errors_of(document(**{"id": "X", "zones.0.box.min_lon": 500, "zones.1.max_depth_km": 0,
                                   "effective_to": "2020-01-01T00:00:00Z"}))
    assert set(errors) == {"id", "zones.0.box.min_lon", "zones.1.max_depth_km", "effective_to"}


def test_duplicate_zone_ids_are_named_by_index_even_after_an_invalid_zone():
    doc = document()
    doc["zones"] = [doc["zones"][0] | {"max_depth_km": -1}, doc["zones"][1], doc["zones"][0] | {"id": "polygon-zone"}]
    errors = errors_of(doc)
    assert set(errors) == {"zones.0.max_depth_km", "zones.2.id"}
    assert "polygon-zone" in errors["zones.2.id"][0]


def ring(*points):
    return [list(p) for p in points]


@pytest.mark.parametrize("polygon, path", [
    ({"type": "Point", "coordinates": [37.0, 50.0]}, "zones.1.polygon.type"),
    ({"type": "Polygon"}, "zones.1.polygon.coordinates"),
    ({"type": "Polygon", "coordinates": []}, "zones.1.polygon.coordinates"),
    ({"type": "Polygon", "coordinates": [SHELL], "bbox": [36.5, 50.3, 37.5, 51.3]}, "zones.1.polygon.bbox"),
    ({"type": "Polygon", "coordinates": [SHELL[:-1]]}, "zones.1.polygon.coordinates.0"),  # 4 points, not closed
    ({"type": "Polygon", "coordinates": [SHELL[:3]]}, "zones.1.polygon.coordinates.0"),  # too few
    ({"type": "Polygon", "coordinates": [SHELL[:2] + [[37.0, 91.0]] + SHELL[3:]]},
     "zones.1.polygon.coordinates.0.2"),
    ({"type": "Polygon", "coordinates": [SHELL[:1] + [[181, 50.8]] + SHELL[2:]]},
     "zones.1.polygon.coordinates.0.1"),
    ({"type": "Polygon", "coordinates": [SHELL[:1] + [[37.5, 50.8, 100]] + SHELL[2:]]},
     "zones.1.polygon.coordinates.0.1"),
    ({"type": "Polygon", "coordinates": [SHELL[:1] + [["37.5", 50.8]] + SHELL[2:]]},
     "zones.1.polygon.coordinates.0.1"),
    # A bow tie: its edges cross.
    ({"type": "Polygon", "coordinates": [ring((36, 50), (37, 51), (37, 50), (36, 51), (36, 50))]},
     "zones.1.polygon.coordinates"),
    # A hole outside its shell.
    ({"type": "Polygon", "coordinates": [SHELL, ring((30, 40), (31, 40), (31, 41), (30, 40))]},
     "zones.1.polygon.coordinates"),
    ({"type": "MultiPolygon", "coordinates": [SHELL]}, "zones.1.polygon.coordinates.0.0"),
    ({"type": "MultiPolygon", "coordinates": []}, "zones.1.polygon.coordinates"),
    # Two overlapping polygons are not a valid MultiPolygon.
    ({"type": "MultiPolygon", "coordinates": [[SHELL], [SHELL]]}, "zones.1.polygon.coordinates"),
])
def test_polygon_rules(polygon, path):
    errors = errors_of(document(**{"zones.1.polygon": polygon}))
    assert path in errors, errors


def test_self_intersection_is_explained():
    bow_tie = {"type": "Polygon", "coordinates": [ring((36, 50), (37, 51), (37, 50), (36, 51), (36, 50))]}
    message = errors_of(document(**{"zones.1.polygon": bow_tie}))["zones.1.polygon.coordinates"][0]
    assert "Self-intersection" in message


def test_a_multipolygon_is_accepted():
    other = ring((38.0, 50.0), (38.5, 50.0), (38.5, 50.5), (38.0, 50.0))
    assert errors_of(document(**{"zones.1.polygon": {"type": "MultiPolygon",
                                                     "coordinates": [[SHELL, HOLE], [other]]}})) == {}


def test_denied_families_must_be_in_the_catalog():
    errors = unknown_family_errors(document(**{"zones.1.denied_families": ["GMLRS", "HIMARS-X", "ZZZ"]}),
                                   FAMILIES)
    assert list(errors) == ["zones.1.denied_families"]
    assert "HIMARS-X, ZZZ" in errors["zones.1.denied_families"][0]
    assert unknown_family_errors(document(), FAMILIES) == {}


# ---- polygon zones in the rules model ---------------------------------------------------

def polygon_zone(geometry=DIAMOND, max_depth_km=150.0) -> Zone:
    return Zone.from_document({"id": "p", "polygon": geometry, "max_depth_km": max_depth_km,
                               "denied_families": []})


def test_polygon_containment_honours_holes_boundaries_and_depth():
    zone = polygon_zone()
    assert zone.box is None and zone.polygon is not None
    assert zone.contains(36.9, 50.45, 12.0)  # inside the shell
    assert not zone.contains(37.45, 51.25, 12.0)  # inside its bounding box, outside the diamond
    assert not zone.contains(37.0, 50.8, 12.0)  # in the hole
    for lon, lat in [(37.0, 51.3), (36.5, 50.8), (37.25, 50.55), (36.9, 50.8), (37.1, 50.7)]:
        assert zone.contains(lon, lat, 12.0), (lon, lat)  # vertices and edges of shell and hole count
    assert zone.contains(36.9, 50.45, 150.0) and not zone.contains(36.9, 50.45, 150.01)
    assert not zone.contains(36.9, 50.45, None)


def test_polygon_and_multipolygon_of_the_same_area_are_equal_zones():
    single = polygon_zone()
    multi = polygon_zone({"type": "MultiPolygon", "coordinates": [DIAMOND["coordinates"]]})
    assert single == multi and hash(single) == hash(multi)
    assert len({single, multi}) == 1
    assert single != polygon_zone(max_depth_km=80.0)
    assert "_shape" not in repr(single)


def test_a_zone_cannot_have_both_a_box_and_a_polygon():
    with pytest.raises(ValueError):
        Zone.from_document({"id": "p", "box": {"min_lon": 0, "min_lat": 0, "max_lon": 1, "max_lat": 1},
                            "polygon": DIAMOND, "max_depth_km": 10})


def test_a_policy_with_a_polygon_zone_keeps_its_document_hash():
    doc = document()
    policy = Policy.from_document(doc)
    assert [z.id for z in policy.zones] == ["box-zone", "polygon-zone"]
    assert policy.zones[0].polygon is None and policy.zones[1].box is None
    assert policy == Policy.from_document(copy.deepcopy(doc))
