"""The `flask --app service …` commands, one module per group; register_commands adds them to an app."""
from flask import Flask

from service.cli import keys, ledger, policies, reports


def register_commands(app: Flask) -> None:
    for module in (keys, policies, ledger, reports):
        app.cli.add_command(module.group)
