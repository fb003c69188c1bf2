"""The auditor's console at /console: server-rendered pages over the use cases the API's views use."""
from flask import Flask

from service.web.errors import render_errors_as_pages


def install(app: Flask) -> None:
    # The pages register themselves on the blueprint when imported.
    from service.web.console import account, events, ledger, maps, policies, reports  # noqa: F401
    from service.web.console.blueprint import bp, error_page

    app.register_blueprint(bp)
    render_errors_as_pages(app, bp.url_prefix, error_page)
