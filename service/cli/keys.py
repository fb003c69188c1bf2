"""flask --app service keys …: create, list, rotate and revoke API keys."""
import click
from flask.cli import AppGroup

from service.core.errors import DomainError
from service.core.time import format_utc
from service.keys import store as auth
from service.web.auth import forget_known_keys
from service.web.context import sessions

group = AppGroup("keys", help="Create, list, rotate and revoke API keys.")


@group.command("create")
@click.option("--name", required=True, help="The identity recorded on everything this key does.")
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
def create_key(name: str, role: str) -> None:
    """Create a key; it is printed once, alone on the last line, and stored only as a hash."""
    try:
        with sessions()() as session, session.begin():
            key = auth.create_key(session, name, role)
    except (ValueError, DomainError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {role} key {name!r}. Store it now: it cannot be shown again.")
    click.echo(key)


@group.command("list")
def list_keys() -> None:
    """Name, role, creation time and revocation time of every key (never the key)."""
    with sessions()() as session:
        for key in auth.all_keys(session):
            revoked = f"revoked {format_utc(key.revoked_at)}" if key.revoked_at else "active"
            click.echo(f"{key.name}\t{key.role}\t{format_utc(key.created_at)}\t{revoked}")


@group.command("rotate")
@click.argument("name")
def rotate_key(name: str) -> None:
    """A new secret for the key NAME (same name and role); the old secret gets 401 within a second."""
    try:
        with sessions()() as session, session.begin():
            key = auth.rotate_key(session, name)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    forget_known_keys()  # servers' workers stop believing the old secret within KEY_TRUST_SECONDS
    click.echo(f"Rotated {name!r}: the old key no longer works. Store the new one now: it cannot be shown again.")
    click.echo(key)


@group.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke a key; requests with it get 401 within a second, on every server."""
    try:
        with sessions()() as session, session.begin():
            auth.revoke_key(session, name)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    forget_known_keys()  # servers' workers stop believing it within KEY_TRUST_SECONDS
    click.echo(f"Revoked {name!r}.")
