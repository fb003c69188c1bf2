"""Strike-event compliance audit service: `flask --app service …` and gunicorn find create_app here."""


def create_app(test_config: dict | None = None):
    """The Flask app (service.web) with the `flask` commands (service.cli) registered on it.

    Imported here rather than at the top, so that `import service.core…` stays free of Flask.
    """
    from service.cli import register_commands
    from service.web.app import create_web_app

    app = create_web_app(test_config)
    register_commands(app)
    return app
