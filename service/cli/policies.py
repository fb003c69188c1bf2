"""flask --app service policies …: load the bundled policy versions and munition catalog."""
import click
from flask.cli import AppGroup

from service.core.errors import DomainError
from service.policies.store import load_bundled
from service.web.context import sessions

group = AppGroup("policies", help="Policy versions.")


@group.command("load")
def load_policies() -> None:
    """Load the bundled policy versions and munition catalog (idempotent)."""
    try:
        with sessions()() as session, session.begin():
            published, munitions = load_bundled(session)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"Loaded {published} new policy version(s) and {munitions} new munition(s).")
