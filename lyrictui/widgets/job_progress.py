"""JobProgress: the Library's jobs area, one line per running job (scrape, import, pack)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static


class JobLine(Horizontal):
    """One job: what it is, a bar, and its latest figures."""

    DEFAULT_CSS = """
    JobLine { height: 1; }
    JobLine > .job-title { width: 32; text-style: bold; }
    JobLine > ProgressBar { width: 36; }
    JobLine > .job-detail { width: 1fr; color: $text-muted; }
    """

    def __init__(self, job_id: str, title: str) -> None:
        super().__init__(id=job_id)
        self.job_title = title

    def compose(self) -> ComposeResult:
        yield Static(self.job_title, classes="job-title", markup=False)
        yield ProgressBar(total=None, show_eta=False)
        yield Static("starting…", classes="job-detail", markup=False)

    def update(self, done: int | None, total: int | None, detail: str) -> None:
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=done or 0)
        self.query_one(".job-detail", Static).update(detail)


class JobProgress(Vertical):
    """Hidden while no job runs."""

    DEFAULT_CSS = """
    JobProgress { height: auto; max-height: 6; display: none; border-top: hkey $panel; }
    JobProgress.-busy { display: block; }
    """

    def start(self, job_id: str, title: str) -> JobLine:
        line = JobLine(job_id, title)
        self.mount(line)
        self.add_class("-busy")
        return line

    def line(self, job_id: str) -> JobLine | None:
        found = self.query(f"#{job_id}")
        return found.first(JobLine) if found else None

    @property
    def busy(self) -> bool:
        """Whether a job is shown (a finished one's line may still be on its way out)."""
        return self.has_class("-busy")

    def finish(self, job_id: str) -> None:
        line = self.line(job_id)
        if line is not None:
            line.remove()
        self.set_class(len(self.query(JobLine)) > 1 if line else bool(self.query(JobLine)),
                       "-busy")
