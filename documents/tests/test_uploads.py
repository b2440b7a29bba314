"""The checks of documents/uploads.py: types, sizes, quota, and every guard on .zip archives.

Archives are written here with zipfile; a few are then altered byte by byte to say what a hostile
archiver would (a lying size, an encrypted flag), which zipfile itself never writes.
"""

import io
import stat
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from conftest import make_user
from documents.collections import personal_collection
from documents.forms import UploadForm
from documents.models import Document, ImportFile, ImportFileStatus, ImportJob, ImportJobKind
from documents.uploads import UploadRefused, safe_upload_name, upload_check


def upload(name: str, data: bytes | str = b"Some text.") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)


def zip_of(entries: dict[str, bytes | str], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def contents(checked) -> dict[str, bytes]:
    return {path: file.read() for path, file in checked.accepted}


@pytest.fixture
def limits(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    settings.MAX_IMPORT_FILE_BYTES = 5000
    settings.MAX_UPLOAD_TOTAL_BYTES = 4000
    settings.UPLOAD_ZIP_MAX_FILES = 5
    settings.UPLOAD_ZIP_MAX_BYTES = 3000
    settings.USER_STORAGE_QUOTA_BYTES = 0
    return settings


@pytest.fixture
def ann(db):
    return make_user("ann")


def test_files_of_supported_types_are_accepted_under_their_base_names(limits, ann):
    checked = upload_check(files=[upload("notes.md", "# Notes"), upload("C:\\Users\\ann\\plan.txt", "Plan")], user=ann)
    assert contents(checked) == {"notes.md": b"# Notes", "plan.txt": b"Plan"}
    assert checked.refused == []


def test_an_unsupported_type_is_refused_by_name_and_the_rest_goes_ahead(limits, ann):
    checked = upload_check(files=[upload("photo.jpg"), upload("notes.md")], user=ann)
    assert [path for path, _ in checked.accepted] == ["notes.md"]
    [(name, reason)] = checked.refused
    assert name == "photo.jpg" and reason.startswith("unsupported file type (supported: .txt")


def test_a_file_over_the_limit_per_file_is_refused_and_one_at_the_limit_is_not(limits, ann):
    checked = upload_check(files=[upload("big.txt", b"x" * 1001), upload("edge.txt", b"x" * 1000)], user=ann)
    assert [path for path, _ in checked.accepted] == ["edge.txt"]
    assert checked.refused == [("big.txt", "larger than the 1000\xa0bytes limit per file (1001\xa0bytes)")]


def test_hidden_names_and_control_characters_are_refused(limits, ann):
    checked = upload_check(files=[upload(".env.txt"), upload("evil\u202etxt.md")], user=ann)
    assert checked.accepted == []
    assert [name for name, _ in checked.refused] == [".env.txt", "evil\\u202etxt.md"]


def test_two_files_with_one_name_keep_the_first(limits, ann):
    checked = upload_check(files=[upload("a/notes.md", "one"), upload("b/notes.md", "two")], user=ann)
    assert contents(checked) == {"notes.md": b"one"}
    assert checked.refused == [("notes.md", "another file in this upload has the same path")]


def test_an_upload_over_the_total_is_refused_whole(limits, ann):
    files = [upload(f"part{n}.txt", b"x" * 900) for n in range(5)]  # 4500 bytes, each under its own limit
    with pytest.raises(UploadRefused, match="This upload is 4.4\xa0KB; at most 3.9\xa0KB may be sent at once"):
        upload_check(files=files, user=ann)


def test_a_zip_of_a_folder_keeps_its_paths(limits, ann):
    archive = zip_of({"handbook/": b"", "handbook/garden/roses.md": "# Roses", "handbook/kettle.txt": "Descale."})
    checked = upload_check(files=[upload("handbook.zip", archive)], user=ann)
    assert contents(checked) == {"handbook/garden/roses.md": b"# Roses", "handbook/kettle.txt": b"Descale."}
    checked.close()


def test_the_archivers_own_files_in_a_zip_are_skipped_silently(limits, ann):
    archive = zip_of({"notes.md": "Notes", "__MACOSX/._notes.md": "meta", ".DS_Store": "meta"})
    checked = upload_check(files=[upload("notes.zip", archive)], user=ann)
    assert contents(checked) == {"notes.md": b"Notes"} and checked.refused == []


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../escape.md", "a path that climbs out of the archive (..) is not allowed"),
        ("docs/../../escape.md", "a path that climbs out of the archive (..) is not allowed"),
        ("/etc/escape.md", "an absolute path is not allowed in an archive"),
        ("docs\\escape.md", "a Windows path (backslashes or a drive letter) is not allowed in an archive"),
        ("C:/escape.md", "a Windows path (backslashes or a drive letter) is not allowed in an archive"),
        ("inner.zip", "an archive inside an archive is not expanded; upload it on its own"),
        ("photos.tar.gz", "an archive inside an archive is not expanded; upload it on its own"),
    ],
)
def test_unsafe_entries_of_a_zip_are_refused_and_the_others_kept(limits, ann, entry, reason):
    data = zip_of({"a.zip": "x"}) if entry.endswith(".zip") else b"text"
    archive = zip_of({entry: data, "ok.md": "Fine."})
    checked = upload_check(files=[upload("mixed.zip", archive)], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    assert checked.refused == [(entry, reason)]


def test_a_symbolic_link_in_a_zip_is_refused(limits, ann):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("passwd.txt")
        link.create_system = 3  # Unix, whose mode bits say "symbolic link"
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("ok.md", "Fine.")
    checked = upload_check(files=[upload("links.zip", buffer.getvalue())], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    assert checked.refused == [("passwd.txt", "a symbolic link, not a file")]


def _set_flag_bits(archive: bytes, name: bytes, bits: int) -> bytes:
    """Set general-purpose flag bits of entry ``name`` in both its local and central headers."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                (flags,) = struct.unpack_from("<H", data, start + offset)
                struct.pack_into("<H", data, start + offset, flags | bits)
            start += 4
    return bytes(data)


def test_an_encrypted_entry_is_refused(limits, ann):
    archive = _set_flag_bits(zip_of({"secret.md": "Hidden.", "ok.md": "Fine."}), b"secret.md", 0x1)
    checked = upload_check(files=[upload("locked.zip", archive)], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    assert checked.refused == [("secret.md", "encrypted; upload it unencrypted")]


def _declare_size(archive: bytes, name: bytes, size: int) -> bytes:
    """Make the central directory say entry ``name`` inflates to ``size`` bytes."""
    data = bytearray(archive)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        if data[start + 46 : start + 46 + len(name)] == name:
            struct.pack_into("<I", data, start + 24, size)
        start += 4
    return bytes(data)


def test_an_entry_whose_declared_size_lies_is_refused_as_damaged(limits, ann):
    # 900 bytes that say they are 10: zipfile reads no further than declared and the checksum fails.
    archive = _declare_size(zip_of({"liar.txt": b"y" * 900, "ok.md": "Fine."}), b"liar.txt", 10)
    checked = upload_check(files=[upload("liar.zip", archive)], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    [(name, reason)] = checked.refused
    assert name == "liar.txt" and reason.startswith("a damaged archive entry")


def test_an_entry_that_claims_to_be_small_but_inflates_further_is_refused(limits, ann):
    # 50 kB of one byte claiming to be 10 bytes: reading stops at the claim and the checksum fails.
    archive = _declare_size(zip_of({"bomb.txt": b"z" * 50_000, "ok.md": "Fine."}), b"bomb.txt", 10)
    checked = upload_check(files=[upload("bomb.zip", archive)], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    assert checked.refused == [("bomb.txt", "a damaged archive entry (Bad CRC-32 for file 'bomb.txt')")]


def test_an_entry_over_the_limit_per_file_is_refused(limits, ann):
    archive = zip_of({"big.txt": b"z" * 1001, "ok.md": "Fine."})
    checked = upload_check(files=[upload("big.zip", archive)], user=ann)
    assert contents(checked) == {"ok.md": b"Fine."}
    assert checked.refused == [("big.txt", "larger than the 1000\xa0bytes limit per file (1001\xa0bytes)")]


def test_a_zip_bomb_is_refused_whole(limits, ann):
    # Four entries each under the per-file limit, which inflate together past UPLOAD_ZIP_MAX_BYTES.
    archive = zip_of({f"part{n}.txt": b"z" * 999 for n in range(4)})
    assert len(archive) < 500  # sent: a few hundred bytes; inflated: almost 4 kB
    with pytest.raises(UploadRefused, match="bomb.zip inflates to more than 2.9\xa0KB"):
        upload_check(files=[upload("bomb.zip", archive)], user=ann)


def test_a_zip_with_too_many_files_is_refused_whole(limits, ann):
    archive = zip_of({f"note{n}.md": "x" for n in range(6)})
    with pytest.raises(UploadRefused, match="many.zip holds 6 files; an archive may hold at most 5"):
        upload_check(files=[upload("many.zip", archive)], user=ann)


def test_an_archive_announcing_far_too_many_entries_is_refused_before_they_are_read(limits, ann):
    # 11 entries announced (over twice the limit of 5): refused from the end record alone, which
    # is then made to lie about where the directory is, so that zipfile could not even open it.
    archive = bytearray(zip_of({f"note{n}.md": "x" for n in range(11)}))
    record = archive.rfind(b"PK\x05\x06")
    struct.pack_into("<L", archive, record + 16, 0xFFFFFF)  # the central directory's offset
    with pytest.raises(UploadRefused, match="many.zip holds 11 files; an archive may hold at most 5"):
        upload_check(files=[upload("many.zip", bytes(archive))], user=ann)


def test_a_file_that_is_not_a_zip_is_refused_by_name(limits, ann):
    checked = upload_check(files=[upload("broken.zip", b"not a zip"), upload("ok.md")], user=ann)
    assert [path for path, _ in checked.accepted] == ["ok.md"]
    assert checked.refused == [("broken.zip", "not a readable .zip archive")]


def _with_original(user, size: int) -> Document:
    return Document.objects.create(collection=personal_collection(user), path=f"kept-{size}.txt", title="Kept",
                                   content_hash="0" * 64, original_size=size, uploaded_by=user)  # fmt: skip


def test_the_quota_allows_an_upload_that_fills_it_exactly(limits, ann):
    limits.USER_STORAGE_QUOTA_BYTES = 1500
    _with_original(ann, 1000)
    checked = upload_check(files=[upload("fits.txt", b"x" * 500)], user=ann)
    assert [path for path, _ in checked.accepted] == ["fits.txt"]


def test_the_quota_refuses_an_upload_one_byte_over_and_says_what_is_left(limits, ann):
    limits.USER_STORAGE_QUOTA_BYTES = 1500
    _with_original(ann, 1000)
    with pytest.raises(UploadRefused) as refusal:
        upload_check(files=[upload("over.txt", b"x" * 501)], user=ann)
    assert str(refusal.value).startswith(
        "This upload needs 501\xa0bytes of storage and your quota has 500\xa0bytes left "
        "(1000\xa0bytes of 1.5\xa0KB used)"
    )


def test_the_quota_counts_only_what_the_user_uploaded(limits, ann):
    limits.USER_STORAGE_QUOTA_BYTES = 1500
    _with_original(make_user("ben"), 1400)
    checked = upload_check(files=[upload("mine.txt", b"x" * 900)], user=ann)
    assert [path for path, _ in checked.accepted] == ["mine.txt"]


def test_the_quota_counts_files_still_waiting_in_the_users_uploads(limits, ann):
    limits.USER_STORAGE_QUOTA_BYTES = 1500
    job = ImportJob.objects.create(kind=ImportJobKind.UPLOAD, collection="anything", started_by=ann)
    ImportFile.objects.create(job=job, path="waiting.txt", upload="uploads/1/1-waiting.txt", size=1000)
    ImportFile.objects.create(job=job, path="imported.txt", upload="", size=1000)  # its bytes are an original now
    ImportFile.objects.create(job=job, path="dropped.txt", upload="uploads/1/3-dropped.txt", size=1000,
                              status=ImportFileStatus.CANCELLED)  # fmt: skip
    with pytest.raises(UploadRefused, match="your quota has 500\xa0bytes left"):
        upload_check(files=[upload("over.txt", b"x" * 501)], user=ann)


def test_the_quota_counts_what_zips_inflate_to(limits, ann):
    limits.USER_STORAGE_QUOTA_BYTES = 1500
    archive = zip_of({"a.txt": b"x" * 800, "b.txt": b"x" * 800})  # a few hundred bytes sent, 1600 stored
    with pytest.raises(UploadRefused, match="This upload needs 1.6\xa0KB of storage"):
        upload_check(files=[upload("small.zip", archive)], user=ann)


def test_file_names_are_reduced_to_a_safe_base_name_in_the_admins_form_too(db):
    assert safe_upload_name("C:\\Users\\me\\notes.txt") == "notes.txt"
    assert safe_upload_name("../../etc/passwd.md") == "passwd.md"
    files = [SimpleUploadedFile(n, b"text") for n in ("dir\\notes.txt", ".hidden.md", "a.md", "sub\\a.md")]

    form = UploadForm({"collection": "default"}, MultiValueDict({"files": files}))

    assert form.is_valid()
    assert [path for path, _ in form.cleaned_data["files"]] == ["notes.txt", "a.md"]
    assert [name for name, _ in form.rejected] == [".hidden.md", "a.md"]
    assert "same path" in form.rejected[1][1]
