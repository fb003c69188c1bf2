"""gunicorn settings of the ceiling app: every setting of service/gunicorn_conf.py (workers, worker
class, timeouts, request limits, preloading), but none of its hooks, which start the ledger
sequencer and reset the service's database pool."""
from service import gunicorn_conf as _service

globals().update({name: value for name, value in vars(_service).items()
                  if not name.startswith("_") and isinstance(value, (bool, int, float, str, type(None)))})
