"""The one way any view, hook or command reaches the app's database sessions."""
from flask import current_app
from sqlalchemy.orm import sessionmaker


def sessions() -> sessionmaker:
    """The current app's session factory; `with sessions()() as session:` opens one."""
    return current_app.extensions["db_sessions"]
