"""Strike-event compliance audit service: `flask --app service …` and gunicorn find create_app here."""


def create_app(test_config: dict | None = None):
    """The Flask app (service.web) with the `flask` commands (service.cli) registered on it.

    Imported here rather than at the top, so that `import service.core…` stays free of Flask.
    """
    from service.cli import register_commands
    from service.config import SettingsError
    from service.web.app import create_web_app

    try:
        app = create_web_app(test_config)
    except SettingsError as error:  # one line that says which variable to fix, not a traceback
        raise SystemExit(f"strike-audit: {error}") from None
    register_commands(app)
    return app
