"""Click commands: the quarterly report to a file, and the job queue's worker."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

UNIT_NAMES = {"rows_read": "rows read", "steps": "steps", "pages_rendered": "pages rendered",
              "origins": "back-test origins", "sheets_checked": "sheets checked", "tables_written": "tables written"}


class _Bar:
    """A tqdm progress bar following a job's (done, total, unit), started afresh for each unit."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.unit = None

    def __call__(self, done: int, total: int, unit: str) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if unit != self.unit:
            self.close()
            self.unit = unit
            self.bar = tqdm(total=total or None, desc=UNIT_NAMES.get(unit, unit), unit="", file=sys.stderr,
                            dynamic_ncols=True, leave=True)
        assert self.bar is not None
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.command("quarterly-report")
@click.argument("fund")
@click.argument("quarter")
@click.option("--format", "fmt", type=click.Choice(["html", "xlsx", "pdf"]), default="html", show_default=True)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
@click.option("--index", "index_name", default=None, help="Index for the PME comparison (optional).")
@click.option("--lang", "lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of the report (default: the app's, Chinese).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when standard error is a terminal).")
@with_appcontext
def quarterly_report_command(fund: str, quarter: str, fmt: str, output: str, index_name: str | None,
                             lang: str | None, progress: bool | None) -> None:
    """Write FUND's quarterly report for QUARTER (e.g. 2025Q4) as html, xlsx or pdf.

    Run as a job in this process (recorded in the jobs table, started by `cli`): the same
    report of the same book version, already built by anyone, is taken from the shared cache."""
    from portfolio.book import cache
    from web import queue
    from web.extensions import db

    bar = _Bar(sys.stderr.isatty() if progress is None else progress)
    from portfolio.book.forecasting import overrides_version

    params = {"fund": fund, "quarter": quarter.strip().upper(), "format": fmt, "index": index_name,
              "lang": lang or current_app.config["BABEL_DEFAULT_LOCALE"],
              "forecast_parameters": overrides_version(db.session)}
    try:
        job = queue.submit("quarterly_report", params, username="cli", here=True, on_progress=bar)
    finally:
        bar.close()
    job = queue.get_job(job.id)
    if job.state != "done":
        raise click.ClickException(job.error or f"job {job.id} {job.state}")
    r = job.result
    body = cache.shared_get(db.session, r["what"], r["fund"], r["period"], r["version"])
    if body is None:
        raise click.ClickException("the book changed while the report was written: run the command again")
    with open(output, "wb") as handle:
        handle.write(body)
    click.echo(f"{fund} {params['quarter']} → {output} ({len(body):,} bytes)")


@click.command("jobs-worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
@with_appcontext
def jobs_worker_command(workers: int) -> None:
    """Run jobs from the queue (Redis when REDIS_URL is set) until stopped (Ctrl-C / SIGTERM).
    Not needed without Redis: the web process then runs its jobs itself."""
    from web import queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue.requeue_stale(app)
    queue.consumer(workers, periodic=True, embedded=False).run()


COMMANDS = [quarterly_report_command, jobs_worker_command]
