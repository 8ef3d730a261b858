"""What the commands share for long work: a job run in this process, followed by a tqdm bar
on standard error (by default only at a terminal), and refused in words if it did not finish."""
from __future__ import annotations

import sys
from typing import Any

import click


def unit_name(unit: str) -> str:
    """What a job's progress counts, as the browser's bar says it (web/queue.UNITS,
    web/forecast.UNITS: one msgid each), in the command line's language."""
    from web.cli.language import say
    from web.forecast import UNITS as FORECAST_UNITS
    from web.queue import UNITS

    msgid = {**FORECAST_UNITS, **UNITS}.get(unit)
    return say(msgid) if msgid is not None else unit


class Bar:
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
            self.bar = tqdm(total=total or None, desc=unit_name(unit), unit="", file=sys.stderr,
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


def bar(progress: bool | None) -> Bar:
    """A bar shown when asked (--progress/--no-progress), else when standard error is a terminal."""
    return Bar(sys.stderr.isatty() if progress is None else progress)


def run_job(kind: str, params: dict[str, Any], progress: bool | None):
    """The job for this work run here (web.queue.submit(here=True)), with its bar; the Job
    when done, else a ClickException with the job's error."""
    from web import queue
    from web.cli.language import cli_lang

    shown = bar(progress)
    try:
        job = queue.submit(kind, params, username="cli", here=True, on_progress=shown)
    finally:
        shown.close()
    job = queue.get_job(job.id)
    if job.state != "done":
        raise click.ClickException(queue.error_shown(job, cli_lang()) or f"job {job.id} {job.state}")
    return job
