"""gunicorn entry point: gunicorn service.wsgi:app"""
from service import create_app
from service.core import geo

app = create_app()
# Load the boundaries before gunicorn forks, so workers share them instead of loading one copy each.
geo.country_at(50.0, 36.0)
