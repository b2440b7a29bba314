"""Broken and hostile files, imported by the command's service or uploaded in the admin.

Each bad file is refused with a reason under its name (or stored safely), the good files of the
same import are imported all the same, and the documents stored before are neither lost nor changed.
"""

import os
import random
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from conftest import KNOWLEDGE_BASE
from documents import jobs
from documents.collections import collection_get_or_create
from documents.forms import UploadForm
from documents.jobs import upload_job_start
from documents.models import Document, ImportJob, ImportJobStatus
from documents.services import documents_import
from documents.tests.conftest import run_jobs
from documents.tests.pdf import make_pdf, pdf_with_font_map

UPLOAD_URL = reverse("admin:documents_document_upload")
GOOD_PDF = make_pdf(["Oil the chain every month."], title="Bike manual")
TEA = "Tea\n\nWarm the pot before the leaves go in."
NOISE = random.Random(20240601).randbytes(4096)  # fixed seed: the same junk on every run
# What a page can hold around no text at all.
CHROME_ONLY_HTML = (
    "<html><head><title></title><style>body { color: red }</style><script>track('visit')</script></head>"
    "<body><header>ACME</header><nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
    "<noscript>Please enable JavaScript.</noscript><aside>Ads</aside><footer>© 2024</footer></body></html>"
)


def stored() -> dict[tuple[str, str], tuple]:
    """Everything an import could change about the stored documents and their chunks."""
    return {
        (document.collection, document.path): (
            document.title,
            document.content_hash,
            document.updated_at,
            [(chunk.pk, chunk.text, chunk.heading) for chunk in document.chunks.all()],
        )
        for document in Document.objects.prefetch_related("chunks")
    }


def without(documents: dict, *sources: str) -> dict:
    return {key: value for key, value in documents.items() if key[1] not in sources}


# --- The import (command and service) ---------------------------------------------------------

BROKEN_FILES = [
    ("truncated.pdf", GOOD_PDF[: len(GOOD_PDF) // 2], "not a readable PDF"),
    ("random.pdf", NOISE, "not a readable PDF"),
    ("zero-byte.pdf", b"", "not a readable PDF"),
    ("program.txt", b"\x7fELF\x02\x01\x01\x00" + NOISE, "binary file (contains NUL bytes)"),
    ("noise.md", NOISE.replace(b"\x00", b"\xff"), "not valid UTF-8 text"),
    ("windows-1252.rst", "Prices\n======\n\n5 € a cup".encode("cp1252"), "not valid UTF-8 text (byte 17)"),
    ("page.html", b"<html><body><p>caf\xe9</p></body></html>", "not valid UTF-8 text (byte 18)"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BROKEN_FILES, ids=[case[0] for case in BROKEN_FILES])
def test_a_broken_file_is_refused_by_name_and_the_rest_of_the_import_goes_on(
    knowledge_base, docs_dir, name, data, reason
):
    before = stored()
    (docs_dir / "new").mkdir()
    (docs_dir / "new" / name).write_bytes(data)
    (docs_dir / "new" / "tea.txt").write_text(TEA)

    report = documents_import(paths=[docs_dir])

    [(source, why)] = report.failed
    assert source == f"new/{name}" and why.startswith(reason)
    assert report.added == ["new/tea.txt"]
    assert sorted(report.unchanged) == sorted(KNOWLEDGE_BASE)
    assert without(stored(), "new/tea.txt") == before


@pytest.mark.parametrize(
    ("name", "data"),
    [("zero-byte.txt", b""), ("blank.md", b" \n\t\n"), ("chrome-only.html", CHROME_ONLY_HTML.encode())],
)
def test_a_file_without_text_is_reported_as_empty_and_not_stored(knowledge_base, docs_dir, name, data):
    before = stored()
    (docs_dir / name).write_bytes(data)

    report = documents_import(paths=[docs_dir])

    assert report.empty == [name] and not report.failed
    assert stored() == before


@pytest.mark.parametrize(
    ("data", "outcome"),
    [(b"\x00\x01\x02junk", "failed"), ("caf\xe9".encode("latin-1"), "failed"), (b"", "empty"), (b"x" * 2000, "failed")],
    ids=["binary", "latin-1", "zero-byte", "too large"],
)
def test_a_broken_new_version_of_a_stored_file_leaves_the_stored_document_as_it_was(
    knowledge_base, docs_dir, settings, data, outcome
):
    settings.MAX_IMPORT_FILE_BYTES = 1000
    before = stored()
    (docs_dir / "kettle.txt").write_bytes(data)

    report = documents_import(paths=[docs_dir])

    refused = [source for source, _ in report.failed] if outcome == "failed" else report.empty
    assert refused == ["kettle.txt"]
    assert stored() == before


def test_a_truncated_new_version_of_a_stored_pdf_leaves_the_stored_document_as_it_was(docs_dir, db):
    (docs_dir / "manual.pdf").write_bytes(GOOD_PDF)
    documents_import(paths=[docs_dir])
    before = stored()
    (docs_dir / "manual.pdf").write_bytes(GOOD_PDF[:-40])  # the cross-reference table is cut off

    report = documents_import(paths=[docs_dir])

    assert [source for source, _ in report.failed] == ["manual.pdf"]
    assert stored() == before and Document.objects.get(path="manual.pdf").title == "Bike manual"


def test_a_file_over_the_import_limit_is_refused_by_name(docs_dir, db, settings, capsys):
    settings.MAX_IMPORT_FILE_BYTES = 1000
    (docs_dir / "huge.txt").write_bytes(b"word " * 201)  # 1005 bytes

    with pytest.raises(CommandError) as failure:
        call_command("import_documents", str(docs_dir), verbosity=0)

    assert failure.value.returncode == 1
    assert "FAILED  huge.txt: larger than the 1000\xa0bytes import limit (1005\xa0bytes)" in capsys.readouterr().err
    assert sorted(Document.objects.values_list("path", flat=True)) == sorted(KNOWLEDGE_BASE)


def test_a_file_larger_than_memory_is_refused_without_being_read(docs_dir, db):
    giant = docs_dir / "giant.txt"
    with giant.open("wb") as out:
        out.truncate(2**40)  # a sparse terabyte: no disk used, but reading it whole cannot work

    report = documents_import(paths=[docs_dir])

    [(source, reason)] = report.failed
    assert source == "giant.txt" and reason.startswith("larger than the 50.0\xa0MB import limit (1.0\xa0TB)")
    assert sorted(report.added) == sorted(KNOWLEDGE_BASE)


def test_pdf_text_with_nul_and_half_surrogate_pairs_is_stored_without_them(docs_dir, db):
    # "Oil" then NUL, a lone high surrogate, "chain", a lone low surrogate and "!".
    units = [ord("O"), ord("i"), ord("l"), 0, 0xD800, *map(ord, " chain"), 0xDC00, ord("!")]
    (docs_dir / "odd-font.pdf").write_bytes(pdf_with_font_map(units, title=[ord("T"), 0, ord("t")]))

    report = documents_import(paths=[docs_dir])

    assert report.failed == [] and sorted(report.added) == sorted([*KNOWLEDGE_BASE, "odd-font.pdf"])
    document = Document.objects.get(path="odd-font.pdf")
    assert document.title == "Tt"
    assert [chunk.text for chunk in document.chunks.all()] == ["Oil\ufffd chain\ufffd!"]


def test_a_file_name_that_is_not_utf8_is_refused_with_its_bytes_shown(knowledge_base, docs_dir):
    before = stored()
    # Linux file names are bytes; Python hands undecodable ones over as lone surrogates.
    (docs_dir / os.fsdecode(b"caf\xe9.txt")).write_text("Coffee\n\nGrind the beans just before brewing.")
    (docs_dir / "tea.txt").write_text(TEA)

    report = documents_import(paths=[docs_dir])

    assert report.failed == [("caf\\xe9.txt", "the file name is not valid UTF-8; rename the file")]
    assert report.added == ["tea.txt"]
    assert without(stored(), "tea.txt") == before


def test_a_path_too_long_to_store_is_refused_by_name(knowledge_base, docs_dir):
    deep = docs_dir / ("a" * 200) / ("b" * 200) / ("c" * 96 + ".txt")  # 501 characters from the folder
    deep.parent.mkdir(parents=True)
    deep.write_text(TEA)

    report = documents_import(paths=[docs_dir])

    [(source, reason)] = report.failed
    assert source == deep.relative_to(docs_dir).as_posix()
    assert reason == "the path is longer than the 500 characters a document path can have"
    assert sorted(report.unchanged) == sorted(KNOWLEDGE_BASE)


# --- The admin upload -------------------------------------------------------------------------


@pytest.fixture
def manuals(db):
    """The collection uploads go to, with documents already stored in it."""
    collection, _ = collection_get_or_create(name="manuals")
    upload_job_start(collection=collection, user=None, files=[("kettle.txt", kettle_file())])
    run_jobs()
    return collection


def kettle_file() -> ContentFile:
    return ContentFile(KNOWLEDGE_BASE["kettle.txt"].encode(), name="kettle.txt")


def multipart(files: dict[str, bytes], collection: str = "manuals") -> bytes:
    """A form body written by hand, so file names reach the server exactly as a hostile client sends them."""
    parts = [b'Content-Disposition: form-data; name="collection"\r\n\r\n' + collection.encode()]
    parts += [
        b'Content-Disposition: form-data; name="files"; filename="%s"\r\nContent-Type: text/plain\r\n\r\n%s'
        % (name.encode(), data)
        for name, data in files.items()
    ]
    return b"".join(b"--BOUNDARY\r\n" + part + b"\r\n" for part in parts) + b"--BOUNDARY--\r\n"


def post_files(client, files: dict[str, bytes]):
    return client.post(UPLOAD_URL, multipart(files), content_type="multipart/form-data; boundary=BOUNDARY")


def test_uploaded_broken_files_are_reported_by_name_and_the_stored_documents_kept(staff_client, manuals):
    before = stored()
    files = {name: data for name, data, _ in BROKEN_FILES}
    response = post_files(
        staff_client,
        {
            **files,
            "kettle.txt": b"\x00 not the kettle",
            "empty.txt": b"",
            "roses.md": KNOWLEDGE_BASE["garden/roses.md"].encode(),
        },
    )

    assert response.status_code == 302
    run_jobs()

    job = ImportJob.objects.first()
    statuses = dict(job.files.values_list("path", "status"))
    assert job.status == ImportJobStatus.PARTLY_FAILED
    assert (statuses.pop("roses.md"), statuses.pop("empty.txt")) == ("added", "empty")
    assert set(statuses.values()) == {"failed"} and len(statuses) == len(files) + 1
    reasons = dict(jobs.job_progress(job).failures)
    assert reasons["kettle.txt"].startswith("binary file")
    for name, _, reason in BROKEN_FILES:
        assert reasons[name].startswith(reason)
    assert without(stored(), "roses.md") == before


def test_path_tricks_in_uploaded_file_names_leave_only_a_base_name(staff_client, settings):
    media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    names = {
        "../../escape.txt": "escape.txt",
        "/etc/absolute.txt": "absolute.txt",
        "..\\..\\windows.md": "windows.md",
        "C:\\Users\\me\\drive.md": "drive.md",
        "nul\x00byte.txt": "nulbyte.txt",
        "&#46;&#46;&#47;encoded.txt": "encoded.txt",
    }

    post_files(staff_client, {name: f"Notes\n\nNotes number {n}.".encode() for n, name in enumerate(names)})

    # The bytes wait in the storage under the job's folder, under names the sent ones do not shape.
    job = ImportJob.objects.get()
    waiting = sorted(path.relative_to(media).as_posix() for path in media.rglob("*") if path.is_file())
    assert waiting == sorted(f"uploads/{job.pk}/{n}-{name}" for n, name in enumerate(names.values(), start=1))
    run_jobs()
    assert sorted(Document.objects.values_list("path", flat=True)) == sorted(names.values())


def test_a_file_named_only_dots_is_not_imported(staff_client):
    response = post_files(staff_client, {"..": b"Up\n\nOne level up.", ".": b"Here\n\nThis folder."})
    # Django drops such files before the form sees them: nothing was uploaded.
    assert response.status_code == 200 and response.context["form"].errors["files"]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("nul\x00byte.txt", "nul\\x00byte.txt"),
        ("line\nbreak.md", "line\\nbreak.md"),
        ("invoice\u202etxt.exe", "invoice\\u202etxt.exe"),  # right-to-left override: it reads "invoiceexe.txt"
        ("bell\x07.txt", "bell\\x07.txt"),
    ],
)
def test_a_file_name_with_control_characters_is_refused_and_reported_escaped(db, name, shown):
    # The admin's parser already strips these; the form is the guard for any other caller.
    form = UploadForm({"collection": "manuals"}, MultiValueDict({"files": [SimpleUploadedFile(name, b"text")]}))
    assert form.is_valid()

    assert form.cleaned_data["files"] == []
    [(name_shown, reason)] = form.rejected
    assert name_shown == shown and reason.startswith("not an acceptable file name")
