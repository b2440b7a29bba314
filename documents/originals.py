"""The original files of documents, kept in Django's default storage.

An original is stored under a name made of its SHA-256, so importing the same bytes again (the
same file re-imported, or one file in two collections) stores nothing new, and a file is shared
by every document with those bytes. A file is therefore deleted only once no document refers to
it any more, and only after the transaction that let go of it has committed: a rolled-back
delete or replace must still find its original.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse

from documents.models import Document

ORIGINALS_FOLDER = "originals"
# Suffixes kept on stored names (for content types and downloads); anything odder is dropped.
_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def original_url(document: Document, page: int | None = None) -> str:
    """The address of ``document``'s original file ("" when none was kept), opened at ``page`` where a
    browser can open a file at a page: its PDF viewer reads ``#page=N``. Other formats' pages (a
    presentation's slides) are named in the citation, but a download cannot be opened at one."""
    if not document.original:
        return ""
    url = reverse("documents:document_original", args=[document.collection_id, document.pk])
    if page and PurePosixPath(document.path).suffix.lower() == ".pdf":
        url += f"#page={page}"
    return url


def original_name(*, content_hash: str, path: str) -> str:
    """Where the bytes whose SHA-256 is ``content_hash`` are stored: originals/ab/abcdef….pdf."""
    suffix = PurePosixPath(path).suffix.lower()
    suffix = suffix if _SUFFIX.fullmatch(suffix) else ""
    return f"{ORIGINALS_FOLDER}/{content_hash[:2]}/{content_hash}{suffix}"


def original_save(*, data: bytes, content_hash: str, path: str) -> str:
    """Store ``data`` under its content-addressed name unless it is there already; return the name.

    Two first imports of the same bytes at the same moment may both save; the storage then keeps
    the second under another name, which its document uses: a duplicate file, never a wrong one.
    """
    name = original_name(content_hash=content_hash, path=path)
    if default_storage.exists(name):
        return name
    return default_storage.save(name, ContentFile(data))


@contextmanager
def original_kept(*, data: bytes, content_hash: str, path: str) -> Iterator[str]:
    """Store an original before the document that names it is written (a committed row never names
    a missing file); if that write fails, delete the file again unless another document uses it."""
    name = original_save(data=data, content_hash=content_hash, path=path)
    try:
        yield name
    except BaseException:
        original_delete_unused(name)
        raise


def original_at(*, collection: str, path: str) -> str:
    """The original's name of the document at ``path`` in ``collection`` ("" if none, or no such document)."""
    return Document.objects.filter(collection_id=collection, path=path).values_list("original", flat=True).first() or ""


def original_delete_unused(name: str) -> bool:
    """Delete the stored file ``name`` if no document refers to it; return whether it was deleted."""
    if not name or Document.objects.filter(original=name).exists():
        return False
    default_storage.delete(name)
    return True


def original_release(name: str) -> None:
    """Delete ``name`` once the current transaction has committed, if no document uses it by then."""
    if name:
        transaction.on_commit(lambda: original_delete_unused(name))


@receiver(post_delete, sender=Document, dispatch_uid="documents.original_release")
def _release_deleted_original(sender, instance: Document, **kwargs) -> None:
    # A signal rather than a service, on purpose: documents are also deleted by cascades (a
    # collection deleted from its page or the admin, a user's data deleted by datacare) that call
    # no method of Document, and every one of them must let go of the file.
    original_release(instance.original.name)
