"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Threaded workers (gthread): a slow client holds one thread, not a whole worker, so a few
clients sending a header line every few seconds cannot block the site (sync workers
would); each worker still runs one Python process, so long work belongs on the job queue,
not in a request. The timeouts: a request that has not finished in `timeout` seconds is
cut off and its worker restarted; `graceful_timeout` lets a deploy finish running requests.
Everything can be overridden by the environment (GUNICORN_CMD_ARGS) or the command line.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("WEB_THREADS", 8))
timeout = 60
graceful_timeout = 30
keepalive = 5
# bounded request line and headers: a hostile client cannot make a worker buffer much
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# A worker is replaced now and then, so no slow leak lives long. Not too often: a new worker
# starts with its in-process caches (the book, the reports, the pages' fragments) empty, and
# its first requests rebuild them. At 2,000 ± 200 a busy site (the load bench: ~200 requests
# a second over two workers) replaced each worker every 20 s, and the two within a second of
# each other (equal shares of the load, a 10 % jitter): both cold at once, the 1–3 s maxima.
# 20,000 plus up to 10,000: minutes apart under that load, days at an office's; the wide
# jitter keeps the workers' turns apart.
max_requests = 20000
max_requests_jitter = 10000
# The app is made once in the master and the workers forked from it: a worker (a new one,
# or one replaced after max_requests) starts with Flask, SQLAlchemy, pandas and the
# templates' code already imported (pandas and the figures' code by `when_ready` below:
# the app alone leaves them to the first figure computed), instead of spending a second on
# imports while its first requests wait. The master opens no database connection; post_fork below drops any
# pooled one all the same, so that no two processes ever share a socket.
preload_app = True
accesslog = "-"
errorlog = "-"
# production defaults: secure cookies (set COOKIE_SECURE=0 only for plain-HTTP tests)
raw_env = [f"FUNDBOOK_ENV={os.environ.get('FUNDBOOK_ENV', 'production')}"]


def when_ready(server):  # noqa: ARG001 (gunicorn's hook signature)
    """In the master, the app made (preload_app), before any worker is forked: the figures'
    code and pandas too, which create_app leaves out (app.import_figures)."""
    from app import import_figures

    import_figures()


def post_fork(server, worker):  # noqa: ARG001 (gunicorn's hook signature)
    """In each new worker: forget the database connections inherited from the master (none
    are expected: the master serves no request), as SQLAlchemy advises for forked processes."""
    app = worker.app.wsgi()
    from web.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
