"""Click commands: the quarterly report to a file, and the job queue's worker."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from web.cli.ending import end_without_teardown


@click.command("quarterly-report")
@click.argument("fund")
@click.argument("quarter")
@click.option("--format", "fmt", type=click.Choice(["html", "xlsx", "pdf"]), default="html", show_default=True)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
@click.option("--index", "index_name", default=None,
              help="Index for the PME comparison (default: the fund's pme_index setting, as on the screens; "
                   "--index '' for none).")
@click.option("--lang", "lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of the report (default: the command line's, PORTFOLIO_LANG; Chinese).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when standard error is a terminal).")
@with_appcontext
def quarterly_report_command(fund: str, quarter: str, fmt: str, output: str, index_name: str | None,
                             lang: str | None, progress: bool | None) -> None:
    """Write FUND's quarterly report for QUARTER (e.g. 2025Q4) as html, xlsx or pdf.

    Run as a job in this process (recorded in the jobs table, started by `cli`): the same
    report of the same book version, already built by anyone, is taken from the shared cache."""
    from portfolio.book import cache
    from portfolio.book.forecasting import overrides_version
    from portfolio.book.fund_settings import pme_index_of
    from portfolio.formatting import canonical_quarter
    from web.cli.language import cli_lang, say
    from web.cli.progress import run_job
    from web.extensions import db

    # the fund's own benchmark unless another (or none: '') is asked for: the screen's report
    index_name = pme_index_of(db.session, fund) if index_name is None else (index_name or None)
    try:  # 2025q4 or ２０２５Ｑ４ is 2025Q4's report, as on the screens
        quarter = canonical_quarter(quarter)
    except ValueError:
        quarter = quarter.strip().upper()  # refused by the job, said as before
    params = {"fund": fund, "quarter": quarter, "format": fmt, "index": index_name,
              "lang": lang or cli_lang(),
              "forecast_parameters": overrides_version(db.session)}
    r = run_job("quarterly_report", params, progress).result
    body = cache.shared_get(db.session, r["what"], r["fund"], r["period"], r["version"])
    if body is None:
        raise click.ClickException(say("报告写出期间台账已变化：请重新运行该命令"))
    with open(output, "wb") as handle:
        handle.write(body)
    from portfolio.formatting import file_size

    click.echo(say("%(fund)s %(quarter)s → %(output)s（%(size)s）", fund=fund, quarter=params["quarter"], output=output,
                   size=file_size(len(body))))
    end_without_teardown()


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
