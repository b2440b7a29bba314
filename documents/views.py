"""The knowledge pages: the collections a user may read, their documents and their original files,
and, for those whose role allows it, uploading, sharing, renaming and deleting.

Every collection is looked up among those the user may read, then checked against the role the
page needs. A collection the user may not read and a page their role does not allow both answer
404: the first so names reveal nothing, the second so members learn no more than non-members.
"""

import functools
from pathlib import PurePosixPath

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import collections, job_panel, jobs, uploads
from documents.forms import (
    CollectionRenameForm,
    DocumentPageForm,
    DocumentSearchForm,
    MemberForm,
    PageUploadForm,
    ShareForm,
)
from documents.models import Collection, Document, ImportJob, Role
from documents.reading import document_blocks

DOCUMENTS_PER_PAGE = 25
# Refused files named one by one in the messages after an upload; the rest are counted.
SHOWN_REFUSALS = 10
# Originals a browser may show itself: a PDF opens at a page (#page=N). Anything else, HTML and SVG
# above all (they would run in this site's origin), is only ever downloaded.
INLINE_TYPES = {".pdf": "application/pdf"}


def _get_collection_for_user(request: HttpRequest, name: str, role: Role = Role.READER) -> Collection:
    """The collection if the user holds ``role`` (or more) in it; 404 otherwise."""
    collection = get_object_or_404(Collection.objects.readable_by(request.user), name=name)
    if not collections.may(request.user, collection, role):
        raise Http404("No collection of that name is yours to change.")
    return collection


def _get_document_for_user(request: HttpRequest, name: str, document_id: int, role: Role = Role.READER) -> Document:
    collection = _get_collection_for_user(request, name, role)
    return get_object_or_404(collection.documents.select_related("collection"), pk=document_id)


@login_required
@require_GET
def collection_list(request: HttpRequest) -> HttpResponse:
    """The user's own "My documents" first (or a word on it, until it is made: a GET writes nothing),
    then the other collections they may read, with their document counts and the user's role."""
    # Ordered here: a query with an aggregate does not use Meta.ordering.
    readable = Collection.objects.readable_by(request.user).annotate(document_count=Count("documents"))
    readable = list(readable.order_by("title", "name"))
    personal = next((c for c in readable if c.personal and c.owner_id == request.user.pk), None)
    roles = collections.roles_in(request.user, readable)
    rows = [(collection, roles[collection.pk]) for collection in readable if collection is not personal]
    # Until "My documents" exists, its upload form is here: the first upload makes it.
    upload_form = PageUploadForm(user=request.user) if personal is None else None
    context = {"personal": personal, "rows": rows, "upload_form": upload_form}
    return render(request, "documents/collection_list.html", context)


@login_required
@require_GET
def collection_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A collection's documents, searchable by title, a page at a time."""
    collection = _get_collection_for_user(request, name)
    search = DocumentSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    documents = collection.documents.annotate(passage_count=Count("chunks")).order_by("path")
    if query:
        documents = documents.filter(title__icontains=query)
    page = Paginator(documents, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    role = collections.role_of(request.user, collection)
    may_edit = role in (Role.EDITOR, Role.MANAGER)
    context = {"collection": collection, "role": role, "page": page, "query": query, "search": search,
               "may_edit": may_edit, "may_manage": role == Role.MANAGER,
               "upload_form": PageUploadForm(user=request.user) if may_edit else None,
               **(job_panel.panel_context(collection) if may_edit else {})}  # fmt: skip
    return render(request, "documents/collection_detail.html", context)


def _size_guarded(view):
    """Put uploads.SizeGuard first among the upload handlers, then check CSRF as usual.

    The CSRF middleware reads the request's body while looking for the token, before the view runs,
    so a handler added in the view would come too late: Django's documented way round is to exempt
    the view from the middleware and protect it here, once the handler is in place."""
    protected = csrf_protect(view)

    @csrf_exempt
    @functools.wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.upload_handlers.insert(0, uploads.SizeGuard(request))
        return protected(request, *args, **kwargs)

    return guarded


def _upload_form(request: HttpRequest) -> PageUploadForm:
    files = request.FILES  # read the request (if CSRF checking has not already) before asking the guard
    oversized = any(isinstance(h, uploads.SizeGuard) and h.tripped for h in request.upload_handlers)
    return PageUploadForm(request.POST, files, user=request.user, oversized=oversized)


@login_required
@require_POST
@_size_guarded
def collection_upload(request: HttpRequest, name: str) -> HttpResponse:
    """Editors: store the files chosen or dropped on the collection page and queue their import."""
    collection = _get_collection_for_user(request, name, Role.EDITOR)
    form = _upload_form(request)
    if form.is_valid():
        _queue_upload(request, form, collection)
    else:
        _report_invalid_upload(request, form)
    return _after_upload(request, reverse("documents:collection", args=[collection.name]))


@login_required
@require_POST
@_size_guarded
def personal_upload(request: HttpRequest) -> HttpResponse:
    """Anyone: upload into their own "My documents", which the first valid upload makes."""
    form = _upload_form(request)
    if not form.is_valid():
        _report_invalid_upload(request, form)
        return _after_upload(request, reverse("documents:list"))
    collection = collections.personal_collection(request.user)
    _queue_upload(request, form, collection)
    return _after_upload(request, reverse("documents:collection", args=[collection.name]))


def _queue_upload(request: HttpRequest, form: PageUploadForm, collection: Collection) -> None:
    checked = form.checked
    try:
        jobs.upload_job_start(collection=collection, user=request.user, files=checked.accepted)
    finally:
        checked.close()
    paths = [path for path, _ in checked.accepted]
    flash.success(request, f"Queued {len(paths)} file(s) for import into “{collection}”: {', '.join(paths)}.")
    _report_refused(request, checked.refused)


def _report_invalid_upload(request: HttpRequest, form: PageUploadForm) -> None:
    for error in form.errors.get("files", []):
        flash.error(request, f"Nothing was uploaded. {error}")


def _report_refused(request: HttpRequest, refused: list[tuple[str, str]]) -> None:
    for name, reason in refused[:SHOWN_REFUSALS]:
        flash.warning(request, f"Not imported: {name}: {reason}.")
    if len(refused) > SHOWN_REFUSALS:
        flash.warning(request, f"… and {len(refused) - SHOWN_REFUSALS} more file(s) not imported.")


def _after_upload(request: HttpRequest, url: str) -> HttpResponse:
    """Post/redirect/get; the page's script (upload.js), which sends the form itself to show its
    progress, asks for JSON and goes to the page itself, so the messages are shown there, once."""
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"location": url})
    return redirect(url)


@login_required
@require_GET
def document_detail(request: HttpRequest, name: str, document_id: int) -> HttpResponse:
    """The whole document, rendered, with the passage ?chunk=<id> highlighted."""
    document = _get_document_for_user(request, name, document_id)
    chosen = DocumentPageForm(request.GET)
    chosen_id = chosen.cleaned_data["chunk"] if chosen.is_valid() else None
    blocks = document_blocks(document.chunks.order_by("position").only("pk", "position", "heading", "text"))
    may_edit = collections.may(request.user, document.collection, Role.EDITOR)
    context = {"document": document, "collection": document.collection, "blocks": blocks,
               "chosen_id": chosen_id, "may_edit": may_edit}  # fmt: skip
    return render(request, "documents/document_detail.html", context)


@login_required
@require_GET
def document_original(request: HttpRequest, name: str, document_id: int) -> FileResponse:
    """The file the document was imported from, for whoever may read the document; a PDF opens in
    the browser (at ``#page=N``), any other type is downloaded."""
    document = _get_document_for_user(request, name, document_id)
    if not document.original:
        raise Http404("This document was imported before originals were kept.")
    file_name = "".join(char for char in PurePosixPath(document.path).name if char.isprintable()) or "original"
    inline_type = INLINE_TYPES.get(PurePosixPath(file_name).suffix.lower())
    try:
        stream = document.original.open("rb")
    except FileNotFoundError:  # removed from the storage by hand: say so rather than fail
        raise Http404("The original file is missing from the storage.") from None
    response = FileResponse(
        stream,
        as_attachment=inline_type is None,
        filename=file_name,
        content_type=inline_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _manage_page(request: HttpRequest, collection: Collection, **forms) -> HttpResponse:
    context = {
        "collection": collection,
        "memberships": collection.memberships.select_related("user", "group"),
        "rename_form": forms.get("rename_form") or CollectionRenameForm(instance=collection),
        "share_form": forms.get("share_form") or ShareForm(),
        "roles": Role.choices,
    }
    return render(request, "documents/collection_manage.html", context)


@login_required
@require_GET
def collection_manage(request: HttpRequest, name: str) -> HttpResponse:
    """Managers: who the collection is shared with, and its title and description."""
    return _manage_page(request, _get_collection_for_user(request, name, Role.MANAGER))


@login_required
@require_POST
def collection_rename(request: HttpRequest, name: str) -> HttpResponse:
    collection = _get_collection_for_user(request, name, Role.MANAGER)
    # A copy: a ModelForm writes what it validated onto its instance, even when the form is invalid,
    # and the page shown again must keep the collection's saved title.
    form = CollectionRenameForm(request.POST, instance=Collection.objects.get(pk=collection.pk))
    if not form.is_valid():
        return _manage_page(request, collection, rename_form=form)
    collections.collection_rename(collection=collection, **form.cleaned_data)
    flash.success(request, "Collection renamed.")
    return redirect("documents:manage", collection.name)


@login_required
@require_POST
def collection_share(request: HttpRequest, name: str) -> HttpResponse:
    """Share with a user or a group, or change the role they have."""
    collection = _get_collection_for_user(request, name, Role.MANAGER)
    form = ShareForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, collection, share_form=form)
    role = form.cleaned_data["role"]
    try:
        membership = collections.collection_share(collection=collection, role=role, **form.member())
    except collections.PersonalCollectionNotShared as refusal:
        flash.error(request, str(refusal))
        return redirect("documents:manage", collection.name)
    flash.success(request, f"{membership.user or membership.group} is now {membership.get_role_display()}.")
    return redirect("documents:manage", collection.name)


@login_required
@require_POST
def collection_unshare(request: HttpRequest, name: str) -> HttpResponse:
    collection = _get_collection_for_user(request, name, Role.MANAGER)
    form = MemberForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Choose a member to remove.")
        return redirect("documents:manage", collection.name)
    member = form.member()
    if collections.collection_unshare(collection=collection, **member):
        flash.success(request, f"{member['user'] or member['group']} no longer has a role here.")
    return redirect("documents:manage", collection.name)


@login_required
@require_http_methods(["GET", "POST"])
def collection_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Ask for confirmation (GET), then delete the collection and all its documents (POST)."""
    collection = _get_collection_for_user(request, name, Role.MANAGER)
    if request.method == "GET":
        count = collection.documents.count()
        return render(request, "documents/collection_delete.html", {"collection": collection, "count": count})
    collections.collection_delete(collection=collection)
    flash.success(request, f"Deleted the collection “{collection}”.")
    return redirect("documents:list")


@login_required
@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, name: str, document_id: int) -> HttpResponse:
    """Editors: ask for confirmation (GET), then delete the document and its passages (POST)."""
    document = _get_document_for_user(request, name, document_id, Role.EDITOR)
    if request.method == "GET":
        return render(request, "documents/document_delete.html", {"document": document})
    collections.document_delete(document=document)
    flash.success(request, f"Deleted “{document.title}”.")
    return redirect("documents:collection", document.collection_id)


def _get_job_for_user(request: HttpRequest, name: str, job_id: int) -> ImportJob:
    """A job of a collection the user may edit; 404 otherwise, as for the collection itself."""
    collection = _get_collection_for_user(request, name, Role.EDITOR)
    return get_object_or_404(ImportJob, pk=job_id, collection=collection.name)


@login_required
@require_GET
def collection_jobs(request: HttpRequest, name: str) -> JsonResponse:
    """Editors: the collection's recent jobs and their progress, with the panel rendered, for the
    page's script to show while a job runs (static/js/jobs.js)."""
    collection = _get_collection_for_user(request, name, Role.EDITOR)
    return JsonResponse(job_panel.panel_json(request, collection))


@login_required
@require_POST
def job_cancel(request: HttpRequest, name: str, job_id: int) -> HttpResponse:
    job = jobs.job_cancel(job=_get_job_for_user(request, name, job_id), user=request.user)
    flash.success(request, f"{job.get_kind_display()} #{job.pk}: {job.get_status_display().lower()}.")
    return redirect("documents:collection", name)


@login_required
@require_POST
def job_retry(request: HttpRequest, name: str, job_id: int) -> HttpResponse:
    """Queue the job's failed files again; they are read from the bytes kept for them."""
    job = _get_job_for_user(request, name, job_id)
    if jobs.may_retry(job):
        jobs.job_retry_failed(job=job, user=request.user)
        flash.success(request, f"{job.get_kind_display()} #{job.pk}: the failed files are queued again.")
    else:
        flash.error(request, f"{job.get_kind_display()} #{job.pk} has no failed file to retry.")
    return redirect("documents:collection", name)
