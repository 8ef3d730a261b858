"""Click commands: the quarterly report to a file."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portfolio.reports.quarterly import QuarterlyError


@click.command("quarterly-report")
@click.argument("fund")
@click.argument("quarter")
@click.option("--format", "fmt", type=click.Choice(["html", "xlsx", "pdf"]), default="html", show_default=True)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
@click.option("--index", "index_name", default=None, help="Index for the PME comparison (optional).")
@with_appcontext
def quarterly_report_command(fund: str, quarter: str, fmt: str, output: str, index_name: str | None) -> None:
    """Write FUND's quarterly report for QUARTER (e.g. 2025Q4) as html, xlsx or pdf."""
    from web.reports import quarterly_report, render_document, render_pdf

    try:
        report = quarterly_report(fund, quarter, index_name)
    except QuarterlyError as error:
        raise click.ClickException(str(error)) from error
    if fmt == "xlsx":
        from portfolio.reports.xlsx import write_quarterly_xlsx

        body = write_quarterly_xlsx(report)
    elif fmt == "pdf":
        body = render_pdf(report)
    else:
        body = render_document(report).encode("utf-8")
    with open(output, "wb") as handle:
        handle.write(body)
    click.echo(f"{fund} {report['quarter']} → {output} ({len(body):,} bytes)")


COMMANDS = [quarterly_report_command]
