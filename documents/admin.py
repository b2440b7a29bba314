from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from documents.forms import UploadForm
from documents.models import Chunk, Collection, Document, ImportJob, ImportJobKind, ImportJobStatus, Membership
from documents.services import collection_reembed, documents_upload

# Failures listed one by one in the messages after an upload; the job page lists them all.
SHOWN_FAILURES = 10
_MESSAGE_LEVELS = {
    ImportJobStatus.SUCCEEDED: messages.SUCCESS,
    ImportJobStatus.PARTLY_FAILED: messages.WARNING,
    ImportJobStatus.FAILED: messages.ERROR,
}


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
    readonly_fields = ["content_hash", "created_at", "updated_at"]
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
        """Import files into a collection with the command's code, then show the job that recorded it.

        The import runs in the request: uploads are capped by MAX_UPLOAD_BYTES and the embedding
        model is already loaded in the worker, so it takes seconds; big imports use import_documents.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
        if form.is_valid():
            job = documents_upload(
                files=form.cleaned_data["files"],
                rejected=form.rejected,
                collection=form.cleaned_data["collection"],
                user=request.user,
            )
            self._log_upload(request, job)
            self._report(request, job)
            return redirect(self._job_url(request, job))
        context = {**self.admin_site.each_context(request), "title": "Upload files", "form": form, "opts": self.opts}
        return TemplateResponse(request, "admin/documents/document/upload.html", context)

    def _log_upload(self, request: HttpRequest, job: ImportJob) -> None:
        """Admin log: the job, and each document it added or replaced (unchanged files were not written)."""
        _log(request, ImportJob.objects.filter(pk=job.pk), ADDITION, f"Uploaded {len(job.file_names)} file(s).")
        written = Document.objects.filter(
            collection=job.collection, path__in=job.file_names, updated_at__gte=job.started_at
        )
        added = written.filter(created_at__gte=job.started_at)
        _log(request, added, ADDITION, f"Uploaded in import job {job.pk}.")
        _log(request, written.exclude(pk__in=added), CHANGE, f"Replaced by an upload in import job {job.pk}.")

    def _report(self, request: HttpRequest, job: ImportJob) -> None:
        self.message_user(request, _job_summary(job), _MESSAGE_LEVELS[job.status])
        for file_path, reason in job.errors[:SHOWN_FAILURES]:
            self.message_user(request, f"{file_path}: {reason}", messages.ERROR)
        if len(job.errors) > SHOWN_FAILURES:
            self.message_user(request, f"… and {len(job.errors) - SHOWN_FAILURES} more failures.", messages.ERROR)

    def _job_url(self, request: HttpRequest, job: ImportJob) -> str:
        if request.user.has_perm("documents.view_importjob"):
            return reverse("admin:documents_importjob_change", args=[job.pk])
        return reverse("admin:documents_document_changelist") + "?" + urlencode({"collection__exact": job.collection})

    @admin.action(description="Re-embed the collections of the selected documents", permissions=["change"])
    def reembed_collections(self, request: HttpRequest, queryset) -> None:
        """Every chunk of those collections, not only the selected documents: a collection must be
        embedded by one model for its search to make sense. Runs in the request, like uploads."""
        for collection in sorted(set(queryset.values_list("collection", flat=True))):
            job = collection_reembed(collection=collection, user=request.user)
            _log(request, ImportJob.objects.filter(pk=job.pk), ADDITION, f"Re-embedded collection {collection}.")
            self._report(request, job)


def _log(request: HttpRequest, queryset, action_flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, queryset, action_flag, message)


def _job_summary(job: ImportJob) -> str:
    if job.kind == ImportJobKind.REEMBED:
        counts = f"{job.replaced} document(s) with new vectors, {job.unchanged} already current, {job.failed} failed"
    else:
        counts = (
            f"{job.added} added, {job.replaced} replaced, {job.unchanged} unchanged, {job.empty} empty, "
            f"{job.failed} failed"
        )
    return f"{job}: {counts}; {job.chunks_written} chunk(s) written."


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: a job is the record of what an upload or re-embedding did."""

    list_display = [
        "__str__", "status", "kind", "collection", "added", "replaced", "unchanged", "empty", "failed",
        "chunks_written", "started_by", "started_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "collection", "started_at"]
    list_select_related = ["started_by"]
    search_fields = ["collection", "started_by__username"]
    fields = [
        "kind", "status", "collection", "started_by", "started_at", "finished_at", "file_names", "added",
        "replaced", "unchanged", "empty", "failed", "chunks_written", "failures",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Failures")
    def failures(self, obj: ImportJob) -> str:
        items = format_html_join("", "<li><strong>{}</strong>: {}</li>", obj.errors)
        return format_html("<ul>{}</ul>", items) if obj.errors else "—"


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
