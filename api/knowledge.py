"""/api/collections: the collections you can read and their documents; uploads and their jobs.

Looked up as the knowledge pages do: among the collections the caller may read, then checked
against the role the operation needs; both refusals answer 404, so names reveal nothing."""

import re

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.decorators import decorate_view

from api.problems import ApiRefusal, documented
from api.schemas import CollectionOut, DocumentPage, JobOut, Text, UploadOut
from documents import collections, jobs, uploads
from documents.models import Collection, ImportJob, Role

router = Router(tags=["collections"])
_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
NOT_YOURS = (
    "You have no collection of that name, or your role in it does not allow this. GET /api/collections lists yours."
)


class DocumentQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(25, ge=1, le=100)
    q: Text = Field("", max_length=200, description="Only documents whose title contains this.")


def collection_for_user(request: HttpRequest, name: str, role: Role = Role.READER) -> Collection:
    if not _NAME.fullmatch(name):  # no collection has such a name; and the database refuses some characters
        raise Http404(NOT_YOURS)
    collection = get_object_or_404(Collection.objects.readable_by(request.user), name=name)
    if not collections.may(request.user, collection, role):
        raise Http404(NOT_YOURS)
    return collection


def _collection_out(user, collection: Collection, role: Role | None, count: int) -> dict:
    personal = collection.personal and collection.owner_id == user.pk
    return {"name": collection.name, "title": collection.title, "description": collection.description,
            "personal": personal, "role": role, "document_count": count}  # fmt: skip


@router.get("/collections", response={200: list[CollectionOut], **documented(401)})
def collection_list(request: HttpRequest):
    """The collections you can read, with your role in each and their document counts."""
    readable = list(
        Collection.objects.readable_by(request.user).annotate(n=Count("documents")).order_by("title", "name")
    )
    roles = collections.roles_in(request.user, readable)
    return [_collection_out(request.user, c, roles[c.pk], c.n) for c in readable]


@router.get("/collections/{name}", response={200: CollectionOut, **documented(401, 404)})
def collection_detail(request: HttpRequest, name: str):
    collection = collection_for_user(request, name)
    role = collections.role_of(request.user, collection)
    return _collection_out(request.user, collection, role, collection.documents.count())


@router.get("/collections/{name}/documents", response={200: DocumentPage, **documented(401, 404, 422)})
def document_list(request: HttpRequest, name: str, query: Query[DocumentQuery]):
    """A collection's documents by path, a page at a time (past the last page: no items)."""
    documents = collection_for_user(request, name).documents.annotate(passage_count=Count("chunks")).order_by("path")
    if query.q:
        documents = documents.filter(title__icontains=query.q)
    paginator = Paginator(documents, query.page_size)
    page = paginator.page(query.page) if query.page <= paginator.num_pages else []
    items = [_document_out(document) for document in page]
    return {"items": items, "count": paginator.count, "page": query.page, "pages": paginator.num_pages}


def _document_out(d) -> dict:
    return {"id": d.pk, "path": d.path, "title": d.title, "size_bytes": d.metadata.get("size_bytes"),
            "passage_count": d.passage_count, "created_at": d.created_at, "updated_at": d.updated_at}  # fmt: skip


def _size_guarded(run):
    """Put uploads.SizeGuard first among the upload handlers before ninja reads the body, as the pages do."""

    def guarded(request: HttpRequest, *args, **kwargs):
        request.upload_handlers.insert(0, uploads.SizeGuard(request))
        return run(request, *args, **kwargs)

    return guarded


UPLOAD_RESPONSES = {202: UploadOut, **documented(401, 404, 413, 422)}
FILES = File(None, description="One or more files, or .zip archives of folders, as multipart fields named files.")


@router.post("/collections/{name}/uploads", response=UPLOAD_RESPONSES)
@decorate_view(_size_guarded)
def collection_upload(request: HttpRequest, name: str, files: list[UploadedFile] = FILES):
    """Editors: queue files for import into the collection; 202 with the job (follow it at its URL)."""
    return _upload(request, files, collection_for_user(request, name, Role.EDITOR))


@router.post("/my-documents/uploads", response=UPLOAD_RESPONSES)
@decorate_view(_size_guarded)
def personal_upload(request: HttpRequest, files: list[UploadedFile] = FILES):
    """Queue files for import into your own "My documents" (made by its first upload)."""
    return _upload(request, files, None)


def _upload(request: HttpRequest, files: list[UploadedFile] | None, collection: Collection | None):
    """Check the files as the pages do, then queue the accepted ones (``collection`` None: "My documents")."""
    if any(isinstance(handler, uploads.SizeGuard) and handler.tripped for handler in request.upload_handlers):
        raise ApiRefusal(413, uploads.too_much_sent())
    if not files:
        raise ApiRefusal(422, "Send the files as multipart/form-data fields named files.")
    try:
        checked = uploads.upload_check(files=files, user=request.user)
    except uploads.UploadRefused as refusal:
        raise ApiRefusal(413, str(refusal)) from None
    try:
        refused = [{"name": name, "reason": reason} for name, reason in checked.refused]
        if not checked.accepted:
            reasons = "; ".join(f"{item['name']}: {item['reason']}" for item in refused)
            raise ApiRefusal(422, f"None of these files can be imported ({reasons}).")
        collection = collection or collections.personal_collection(request.user)
        job = jobs.upload_job_start(collection=collection, user=request.user, files=checked.accepted)
    finally:
        checked.close()
    return Status(202, {"job": job_out(job), "refused": refused})


@router.get("/collections/{name}/jobs/{int:job_id}", response={200: JobOut, **documented(401, 404)})
def job_detail(request: HttpRequest, name: str, job_id: int):
    """Editors: an import job of the collection and its progress (poll it until ``status`` is finished)."""
    collection = collection_for_user(request, name, Role.EDITOR)
    return job_out(get_object_or_404(ImportJob.objects.filter(collection=collection.name), pk=job_id))


def job_out(job: ImportJob) -> dict:
    progress = jobs.job_progress(job)
    failures = [{"name": path, "reason": reason} for path, reason in progress.failures]
    return {"id": job.pk, "collection": job.collection, "kind": job.kind, "status": progress.status,
            "status_label": progress.status_label, "files_done": progress.files_done,
            "files_total": progress.files_total, "passages_written": progress.passages_written,
            "elapsed_seconds": progress.elapsed_seconds, "estimated_seconds_left": progress.estimated_seconds_left,
            "failures": failures, "queued_at": job.queued_at, "finished_at": job.finished_at}  # fmt: skip
