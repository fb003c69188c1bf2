"""What every protected operation shares: the role check and its OpenAPI description."""
from service.web.auth import require_role
from service.web.errors import PROBLEM_JSON
from service.web.http import Blueprint
from service.web.schemas.problem import ProblemSchema

ANY_ROLE = ("reporter", "auditor", "admin")
RATE_LIMITED = "RATE_LIMITED"  # the 429 response component, registered by service.app.AuditApi


def problem(blp: Blueprint, status: int, description: str):
    return blp.alt_response(status, schema=ProblemSchema, description=description, content_type=PROBLEM_JSON)


def rate_limited(blp: Blueprint):
    """Document the 429 every route but the probes can answer (service.rate_limits)."""
    return blp.alt_response(429, RATE_LIMITED)


def protected(blp: Blueprint, *roles: str):
    """Require one of `roles`, and say so (bearer auth, 401, 403, 429) in the OpenAPI document."""

    def decorator(view):
        view = require_role(*roles)(view)
        view = rate_limited(blp)(view)
        view = problem(blp, 401, "No valid API key")(view)
        view = problem(blp, 403, f"The key's role is not one of: {', '.join(roles)}")(view)
        return blp.doc(security=[{"bearerAuth": []}])(view)

    return decorator
