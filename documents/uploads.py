"""What people may upload from the knowledge pages: the checks between a browser and the queue.

An upload is a list of files, some of which may be ``.zip`` archives of a folder; archives are
expanded here, before anything is stored, and their entries keep their paths inside the archive
(``handbook/garden/roses.md``). Two kinds of refusal, each with its reason:

- **a file is refused** (wrong type, too big, an unsafe or duplicate path, an encrypted or
  damaged archive entry, a symbolic link, an archive inside the archive): it is named with its
  reason, and the other files of the upload go ahead;
- **the upload is refused** (more bytes sent at once than MAX_UPLOAD_TOTAL_BYTES, an archive with
  more than UPLOAD_ZIP_MAX_FILES files or inflating past UPLOAD_ZIP_MAX_BYTES, or a user quota
  the accepted files would exceed): ``UploadRefused`` is raised and nothing at all is kept, since
  a limit of the whole cannot be met by choosing some of its files for the person.

The sizes an archive declares are never trusted: each entry is inflated into a temporary file
while its real bytes are counted, and reading stops as soon as a limit is passed (a zip bomb
costs at most one limit's worth of work).
"""

import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat

from documents.extract import SUPPORTED_SUFFIXES
from documents.models import Document, ImportFile, ImportFileStatus, ImportJobKind

ARCHIVE_SUFFIX = ".zip"
# Archives of other kinds, refused by name inside a zip: nothing expands them.
NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_BYTES = 64 * 1024
# A zip's end-of-central-directory record: signature, four counts of disks and entries, the
# directory's size and offset, the comment's length.
_END_RECORD = struct.Struct("<4s4H2LH")
_STORED = [ImportFileStatus.PENDING, ImportFileStatus.FAILED]


class UploadRefused(Exception):
    """The upload as a whole breaks a limit; the message says which, for the person uploading."""


@dataclass
class CheckedUpload:
    """The files to import, as (document path, file) pairs, and those refused, as (name, reason)."""

    accepted: list[tuple[str, File]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    # The temporary files inflated from archives: the caller closes them (close()) once stored.
    inflated: list[File] = field(default_factory=list)

    @property
    def accepted_bytes(self) -> int:
        return sum(file.size for _, file in self.accepted)

    def close(self) -> None:
        for file in self.inflated:
            file.close()


def file_limit() -> int:
    """The largest file accepted: an upload's own limit, and never more than an import reads."""
    return min(settings.MAX_UPLOAD_BYTES, settings.MAX_IMPORT_FILE_BYTES)


def accepted_suffixes() -> tuple[str, ...]:
    """What the file chooser offers: every type the import reads, and zip archives of them."""
    return (*SUPPORTED_SUFFIXES, ARCHIVE_SUFFIX)


def limits_text(user) -> str:
    """The limits as the upload form states them, with what is left of ``user``'s quota."""
    text = (
        f"{', '.join(accepted_suffixes())}; at most {filesizeformat(file_limit())} a file and "
        f"{filesizeformat(settings.MAX_UPLOAD_TOTAL_BYTES)} an upload."
    )
    quota = settings.USER_STORAGE_QUOTA_BYTES
    if quota and user is not None:
        left = max(quota - storage_used(user), 0)
        text += f" Your storage: {filesizeformat(left)} left of {filesizeformat(quota)}."
    return text


def storage_used(user) -> int:
    """Bytes counted against ``user``'s quota: the originals of the documents they uploaded, and
    the files of their uploads still in storage (waiting for a worker, or failed and kept for a retry)."""
    originals = Document.objects.filter(uploaded_by=user).aggregate(total=Sum("original_size", default=0))
    # Pending files wait for a worker; failed ones keep their bytes for "Retry failed files".
    waiting = ImportFile.objects.filter(job__started_by=user, job__kind=ImportJobKind.UPLOAD, status__in=_STORED)
    waiting = waiting.exclude(upload="")
    return originals["total"] + waiting.aggregate(total=Sum("size", default=0))["total"]


class SizeGuard(FileUploadHandler):
    """The first upload handler of the upload views: once the files sent pass MAX_UPLOAD_TOTAL_BYTES,
    the rest are skipped instead of being written to memory or temporary files; ``tripped`` says so.

    Django reads the whole request before a form sees it; this keeps what it stores of an oversized
    one to the limit. The proxy's body cap (README, Deploy) is what stops the sending itself."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.tripped = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_TOTAL_BYTES:
            self.tripped = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers make the file


def too_much_sent(sent: int | None = None) -> str:
    """The refusal of an upload over MAX_UPLOAD_TOTAL_BYTES (of ``sent`` bytes, when known)."""
    limit = filesizeformat(settings.MAX_UPLOAD_TOTAL_BYTES)
    size = filesizeformat(sent) if sent is not None else f"more than {limit}"
    return f"This upload is {size}; at most {limit} may be sent at once. Send the files in several uploads."


def upload_check(*, files: list[UploadedFile], user) -> CheckedUpload:
    """Check and expand an upload for ``user``; raise UploadRefused when the whole must be refused.

    The caller closes the result (``close()``) once the accepted files are stored."""
    sent = sum(upload.size for upload in files)
    if sent > settings.MAX_UPLOAD_TOTAL_BYTES:
        raise UploadRefused(too_much_sent(sent))
    checked = CheckedUpload()
    try:
        for upload in files:
            name = safe_upload_name(upload.name)
            if PurePosixPath(name).suffix.lower() == ARCHIVE_SUFFIX:
                _expand_zip(upload, name, checked)
            else:
                _add(checked, name, upload, _name_problem(name) or _size_problem(upload.size))
        _check_quota(user, checked.accepted_bytes)
    except BaseException:
        checked.close()
        raise
    return checked


def safe_upload_name(name: str) -> str:
    """The base name of an uploaded file, whichever separator the browser's system uses."""
    return PurePosixPath(name.replace("\\", "/")).name.strip()


def printable(name: str) -> str:
    """``name`` with control characters escaped (\\x00, \\u202e): it is shown to people and stored
    with jobs (PostgreSQL's JSON refuses NUL), where an invisible character would mislead."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in name)


def _add(checked: CheckedUpload, path: str, file: File, problem: str) -> None:
    if not problem and any(path == taken for taken, _ in checked.accepted):
        problem = "another file in this upload has the same path"
    if problem:
        checked.refused.append((printable(path) or "(no name)", problem))
    else:
        checked.accepted.append((path, file))


def _name_problem(path: str) -> str:
    """Why ``path`` cannot name a document, or "" if it can."""
    name = PurePosixPath(path).name
    if not name or name.startswith(".") or not path.isprintable():
        return "not an acceptable file name (empty, hidden or with control characters)"
    if PurePosixPath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"unsupported file type (supported: {', '.join(accepted_suffixes())})"
    return ""


def _size_problem(size: int) -> str:
    if size > file_limit():
        return f"larger than the {filesizeformat(file_limit())} limit per file ({filesizeformat(size)})"
    return ""


def _check_quota(user, needed: int) -> None:
    quota = settings.USER_STORAGE_QUOTA_BYTES
    if not quota or user is None:  # no quota, or files of nobody's (a caller other than a person)
        return
    used = storage_used(user)
    if used + needed > quota:
        left = max(quota - used, 0)
        raise UploadRefused(
            f"This upload needs {filesizeformat(needed)} of storage and your quota has {filesizeformat(left)} "
            f"left ({filesizeformat(used)} of {filesizeformat(quota)} used). Delete documents you no longer "
            "need, or upload fewer files."
        )


def _expand_zip(upload: UploadedFile, name: str, checked: CheckedUpload) -> None:
    """Add the entries of the archive ``upload`` to ``checked``, each inflated into a temporary file."""
    # Entries count folders too, hence the margin; the exact count of files is checked below.
    declared = _declared_entries(upload) or 0
    if declared > 2 * settings.UPLOAD_ZIP_MAX_FILES:
        raise UploadRefused(_too_many_files(name, declared))
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, EOFError):
        checked.refused.append((printable(name), "not a readable .zip archive"))
        return
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > settings.UPLOAD_ZIP_MAX_FILES:
            raise UploadRefused(_too_many_files(name, len(entries)))
        budget = settings.UPLOAD_ZIP_MAX_BYTES
        for info in entries:
            path, problem = _entry_path(info)
            if path is None:
                continue  # the archiver's own bookkeeping (__MACOSX/, .DS_Store): not the person's files
            problem = problem or _entry_problem(info, path)
            if problem:
                _add(checked, path, None, problem)
                continue
            file, problem = _inflate(archive, info, budget=budget, archive_name=name)
            if file is not None:
                checked.inflated.append(file)
                budget -= file.size
            _add(checked, path, file, problem)


def _declared_entries(upload: UploadedFile) -> int | None:
    """How many entries the archive's end record announces (None without one), read before zipfile
    builds an object per entry: an archive of a million empty entries would take gigabytes."""
    upload.seek(0, os.SEEK_END)
    # The record is the archive's last 22 bytes, unless a comment of at most 64 KiB follows it.
    upload.seek(max(0, upload.tell() - _END_RECORD.size - 0xFFFF))
    tail = upload.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        return None
    return _END_RECORD.unpack_from(tail, at)[4]  # entries in total (0xFFFF in a ZIP64 archive: at least that)


def _too_many_files(name: str, count: int) -> str:
    return (
        f"{printable(name)} holds {count} files; an archive may hold at most {settings.UPLOAD_ZIP_MAX_FILES}. "
        "Split it into several archives."
    )


def _entry_path(info: zipfile.ZipInfo) -> tuple[str | None, str]:
    """The document path of an archive entry and why it is refused ("" if it is not); None to skip it."""
    raw = info.filename
    if "\\" in raw or _DRIVE.match(raw):
        return raw, "a Windows path (backslashes or a drive letter) is not allowed in an archive"
    if raw.startswith("/"):
        return raw, "an absolute path is not allowed in an archive"
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        return raw, "a path that climbs out of the archive (..) is not allowed"
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return None, ""
    return "/".join(parts), ""


def _entry_problem(info: zipfile.ZipInfo, path: str) -> str:
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link, not a file"
    if info.flag_bits & 0x1:
        return "encrypted; upload it unencrypted"
    if PurePosixPath(path).suffix.lower() in NESTED_ARCHIVE_SUFFIXES:
        return "an archive inside an archive is not expanded; upload it on its own"
    return _name_problem(path) or _size_problem(info.file_size)


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, budget: int, archive_name: str
) -> tuple[File | None, str]:
    """The entry's bytes in a temporary file, counted as they inflate; (None, reason) if refused.

    Raises UploadRefused once the archive as a whole inflates past UPLOAD_ZIP_MAX_BYTES.
    """
    limit = file_limit()
    # Closed here when refused, by CheckedUpload.close() when kept.
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    written = 0
    try:
        with archive.open(info) as stream:
            while piece := stream.read(_READ_BYTES):
                written += len(piece)
                if written > budget:
                    raise UploadRefused(
                        f"{printable(archive_name)} inflates to more than "
                        f"{filesizeformat(settings.UPLOAD_ZIP_MAX_BYTES)}, the most an archive may hold."
                    )
                if written > limit:
                    spool.close()
                    return None, f"inflates to more than the {filesizeformat(limit)} limit per file"
                spool.write(piece)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        spool.close()
        return None, f"a damaged archive entry ({exc})"
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    file = File(spool, name=PurePosixPath(info.filename).name)
    file.size = written
    return file, ""
