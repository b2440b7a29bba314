"""The jobs panel of a collection page (templates/documents/_jobs.html): its recent jobs, each with
its progress, for the page and for the JSON the page's script polls (static/js/jobs.js)."""

from dataclasses import asdict, dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string

from documents import jobs
from documents.models import Collection, ImportJob

# Jobs shown on a collection page, newest first; the admin lists them all.
JOBS_SHOWN = 5


@dataclass(frozen=True)
class JobRow:
    job: ImportJob
    progress: jobs.JobProgress
    may_retry: bool


def job_rows(collection: Collection) -> list[JobRow]:
    recent = ImportJob.objects.filter(collection=collection.name).recent()[:JOBS_SHOWN]
    return [JobRow(job=job, progress=jobs.job_progress(job), may_retry=jobs.may_retry(job)) for job in recent]


def panel_context(collection: Collection) -> dict:
    rows = job_rows(collection)
    return {"job_rows": rows, "jobs_active": any(not row.progress.finished for row in rows)}


def panel_json(request: HttpRequest, collection: Collection) -> dict:
    """The rows as data, and the panel as the page shows it (one rendering for page and script)."""
    context = {"collection": collection, **panel_context(collection)}
    return {
        "active": context["jobs_active"],
        "jobs": [
            {"id": row.job.pk, "kind": row.job.kind, **asdict(row.progress), "may_retry": row.may_retry}
            for row in context["job_rows"]
        ],
        "html": render_to_string("documents/_jobs.html", context, request=request),
    }
