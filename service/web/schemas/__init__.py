"""marshmallow schemas of what the API takes in and gives out (the OpenAPI document is built from them)."""
