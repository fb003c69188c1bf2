"""gunicorn entry point: gunicorn service.wsgi:app"""
import gc

from service import create_app
from service.core import geo

app = create_app()
# Load the boundaries before gunicorn forks, so workers share them instead of loading one copy each.
geo.country_at(50.0, 36.0)
# What start-up made lives as long as the process: frozen, it is left out of the collector's full passes,
# which would otherwise walk it and write to its pages in every worker (copy-on-write keeps them shared).
gc.freeze()
