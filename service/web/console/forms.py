"""What the console's query strings and forms say, checked by the API's own schemas (same names, same
rules, same messages), so a page's URL is the API's query and a bad value is named the same way."""
from marshmallow import Schema, ValidationError

from service.core.errors import InvalidInput
from service.web.errors import flatten_errors


def submitted(values, ignore: tuple[str, ...] = ()) -> dict:
    """Fields as a browser sends a form: an empty field means "not given" (the API would refuse ""),
    a repeated one keeps its first value."""
    return {name: value for name, value in values.items() if value != "" and name not in ignore}


def checked(schema: Schema, values: dict) -> dict:
    try:
        return schema.load(values)
    except ValidationError as error:
        raise InvalidInput("Some fields are not acceptable; see below.", errors=flatten_errors(error.messages)) \
            from None
