from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from documents import jobs
from documents.collections import collection_get_or_create
from documents.forms import UploadForm
from documents.models import (
    FILE_DONE_STATUSES,
    Chunk,
    Collection,
    Document,
    ImportFile,
    ImportJob,
    Membership,
)
from documents.templatetags.jobs import duration

# Refused files listed one by one in the messages after an upload.
SHOWN_REJECTIONS = 10


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "group", "role"]
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    """Staff manage every collection: who owns it, who reads it, who is a member with which role."""

    list_display = ["name", "title", "owner", "visibility", "personal", "document_count", "updated_at"]
    list_filter = ["visibility", "personal"]
    list_select_related = ["owner"]
    search_fields = ["name", "title", "owner__username"]
    raw_id_fields = ["owner"]
    # "personal" is set only where a user's "My documents" is made (collections.personal_collection).
    readonly_fields = ["personal", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(document_count=Count("documents"))

    @admin.display(ordering="document_count", description="Documents")
    def document_count(self, obj: Collection) -> int:
        return obj.document_count


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["path", "title", "collection", "chunk_count", "created_at", "updated_at"]
    list_filter = ["collection", "created_at", "updated_at"]
    search_fields = ["path", "title"]
    # Who uploaded it and its original's size: what a user's storage quota counts.
    readonly_fields = ["content_hash", "original_size", "uploaded_by", "created_at", "updated_at"]
    actions = ["reembed_collections", "delete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(chunk_count=Count("chunks"))

    @admin.display(ordering="chunk_count", description="Chunks")
    def chunk_count(self, obj: Document) -> int:
        return obj.chunk_count

    def get_urls(self):
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="documents_document_upload")
        return [upload, *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        # A document without chunks is useless: documents are only added by importing files.
        return redirect("admin:documents_document_upload")

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Store the files and queue their import, then show the job, whose page follows its progress.

        Answers at once: a worker (`make worker`) imports the files. Refused files are reported
        here by name and are not part of the job.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        # The same checks as the knowledge pages' upload (documents/uploads.py), quota and zips included.
        form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
        if form.is_valid() and form.cleaned_data["files"]:
            collection, _ = collection_get_or_create(name=form.cleaned_data["collection"])
            files = form.cleaned_data["files"]
            try:
                job = jobs.upload_job_start(collection=collection, user=request.user, files=files)
            finally:
                form.checked.close()
            _log(request, ImportJob.objects.filter(pk=job.pk), ADDITION, f"Uploaded {len(files)} file(s).")
            self.message_user(request, f"{job}: {len(files)} file(s) queued for import.", messages.SUCCESS)
            self._report_rejected(request, form.rejected)
            return redirect(self._job_url(request, job))
        self._report_rejected(request, form.rejected)
        context = {**self.admin_site.each_context(request), "title": "Upload files", "form": form, "opts": self.opts}
        return TemplateResponse(request, "admin/documents/document/upload.html", context)

    def _report_rejected(self, request: HttpRequest, rejected: list[tuple[str, str]]) -> None:
        for name, reason in rejected[:SHOWN_REJECTIONS]:
            self.message_user(request, f"Not uploaded: {name}: {reason}", messages.ERROR)
        if len(rejected) > SHOWN_REJECTIONS:
            self.message_user(request, f"… and {len(rejected) - SHOWN_REJECTIONS} more not uploaded.", messages.ERROR)

    def _job_url(self, request: HttpRequest, job: ImportJob) -> str:
        if request.user.has_perm("documents.view_importjob"):
            return reverse("admin:documents_importjob_change", args=[job.pk])
        return reverse("admin:documents_document_changelist") + "?" + urlencode({"collection__exact": job.collection})

    @admin.action(description="Re-embed the collections of the selected documents", permissions=["change"])
    def reembed_collections(self, request: HttpRequest, queryset) -> None:
        """Every chunk of those collections, not only the selected documents: a collection must be
        embedded by one model for its search to make sense. Each collection becomes a queued job."""
        for collection in sorted(set(queryset.values_list("collection", flat=True))):
            job = jobs.reembed_job_start(collection=collection, user=request.user)
            _log(request, ImportJob.objects.filter(pk=job.pk), ADDITION, f"Re-embedding of collection {collection}.")
            self.message_user(request, f"{job}: queued.", messages.SUCCESS)


def _log(request: HttpRequest, queryset, action_flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, queryset, action_flag, message)


class ImportFileInline(admin.TabularInline):
    """The job's files and what became of each: read-only, the worker writes them."""

    model = ImportFile
    fields = ["path", "size", "status", "passages", "document", "reason", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Queued work and its progress. Read-only, but for Cancel and Retry failed files (staff who may
    change import jobs): the worker writes the rest."""

    list_display = [
        "__str__", "status", "kind", "collection", "files_done", "passages", "started_by", "queued_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "collection", "queued_at"]
    list_select_related = ["started_by"]
    search_fields = ["collection", "started_by__username"]
    fields = [
        "kind", "status", "collection", "started_by", "queued_at", "started_at", "finished_at", "progress",
        "failures",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [ImportFileInline]
    actions = ["cancel_jobs", "retry_failed_files"]
    change_form_template = "admin/documents/importjob/change_form.html"

    def get_urls(self):
        control = [
            path(
                "<int:object_id>/cancel/",
                self.admin_site.admin_view(require_POST(self.cancel_view)),
                name="documents_importjob_cancel",
            ),
            path(
                "<int:object_id>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="documents_importjob_retry",
            ),
        ]
        return [*control, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        controls = {"may_control": self.has_control_permission(request), "job": job,
                    "may_retry": job is not None and jobs.may_retry(job)}  # fmt: skip
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **controls})

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The job page's Cancel button."""
        job = self._job_to_control(request, object_id)
        self.cancel_jobs(request, ImportJob.objects.filter(pk=job.pk))
        return redirect("admin:documents_importjob_change", job.pk)

    def retry_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The job page's Retry failed files button."""
        job = self._job_to_control(request, object_id)
        self.retry_failed_files(request, ImportJob.objects.filter(pk=job.pk))
        return redirect("admin:documents_importjob_change", job.pk)

    def _job_to_control(self, request: HttpRequest, object_id: int) -> ImportJob:
        if not self.has_control_permission(request):
            raise PermissionDenied
        return get_object_or_404(ImportJob, pk=object_id)

    def get_queryset(self, request):
        done = Q(files__status__in=FILE_DONE_STATUSES)
        return (
            super()
            .get_queryset(request)
            .annotate(
                file_count=Count("files"),
                done_count=Count("files", filter=done),
                passage_count=Sum("files__passages", default=0),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_control_permission(self, request) -> bool:
        """Cancel and retry: for staff who may change import jobs (the fields stay read-only)."""
        return request.user.has_perm("documents.change_importjob")

    @admin.display(description="Files done")
    def files_done(self, obj: ImportJob) -> str:
        return f"{obj.done_count} of {obj.file_count}" if obj.file_count else "—"

    @admin.display(ordering="passage_count", description="Passages")
    def passages(self, obj: ImportJob) -> int:
        return obj.chunks_written if obj.kind == "reembed" else obj.passage_count

    @admin.display(description="Progress")
    def progress(self, obj: ImportJob) -> str:
        p = jobs.job_progress(obj)
        left = "" if p.finished else f"; about {duration(p.estimated_seconds_left)} left"
        files = f"{p.files_done} of {p.files_total} files, " if p.files_total else ""
        return f"{files}{p.passages_written} passages written; {duration(p.elapsed_seconds)} so far{left}"

    @admin.display(description="Failures")
    def failures(self, obj: ImportJob) -> str:
        failed = jobs.job_progress(obj).failures
        items = format_html_join("", "<li><strong>{}</strong>: {}</li>", failed)
        return format_html("<ul>{}</ul>", items) if failed else "—"

    @admin.action(description="Cancel the selected jobs", permissions=["control"])
    def cancel_jobs(self, request: HttpRequest, queryset) -> None:
        for job in queryset.filter(status__in=["queued", "running"]):
            jobs.job_cancel(job=job, user=request.user)
            _log(request, ImportJob.objects.filter(pk=job.pk), CHANGE, "Cancelled.")
            self.message_user(request, f"{job}: cancelled; pending files will not be imported.", messages.SUCCESS)

    @admin.action(description="Retry the failed files of the selected jobs", permissions=["control"])
    def retry_failed_files(self, request: HttpRequest, queryset) -> None:
        retried = [job for job in queryset if jobs.may_retry(job)]
        for job in retried:
            jobs.job_retry_failed(job=job, user=request.user)
            _log(request, ImportJob.objects.filter(pk=job.pk), CHANGE, "Failed files queued again.")
        self.message_user(request, f"{len(retried)} job(s) queued again with their failed files.", messages.SUCCESS)


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "heading", "page", "document"]
    list_filter = ["document__collection"]
    list_select_related = ["document"]
    search_fields = ["text", "heading", "document__path"]
    raw_id_fields = ["document"]
    # The vector is 384 numbers: not something to read or edit by hand.
    exclude = ["embedding"]
    readonly_fields = ["document", "position", "page", "heading", "text"]

    def has_add_permission(self, request) -> bool:
        return False
