"""The zip containers of office files and e-books, checked before any library inflates them.

.docx, .pptx, .xlsx, .odt and .epub files are zip archives of XML. A hostile one can declare
gigabytes behind a few kilobytes (a zip bomb) or hold thousands of members; the libraries that read
these formats would inflate them whole. The central directory states every member's inflated size,
and Python's zipfile (which all those libraries use) never returns more than the stated size, so
checking the stated sizes here bounds what the libraries can inflate.
"""

import io
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from documents.extract.base import ExtractionError

# Office files saved with a password are not zips at all but OLE compound files (as are the old
# binary .doc/.xls/.ppt), which start with this signature.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Under this inflated total the compression ratio is not checked: small files are harmless
# whatever their ratio, and tiny XML parts compress very well.
_RATIO_FLOOR_BYTES = 1024 * 1024


def check_container(data: bytes, kind: str) -> list[str]:
    """The member names of a ``kind`` file's zip archive (".docx", ...), or ExtractionError saying what is wrong."""
    if data.startswith(_OLE_SIGNATURE):
        raise ExtractionError(
            f"the {kind} file is password-protected (encrypted) or in an old binary format; "
            f"save it as {kind} without a password"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ExtractionError(f"not a readable {kind} file (damaged or not a zip container: {exc})") from None
    problem = _container_problem(members, compressed=len(data))
    if problem:
        raise ExtractionError(f"refused {kind} file: {problem}")
    return [member.filename for member in members]


def read_member(data: bytes, name: str) -> bytes:
    """One member of an archive ``check_container`` accepted (its size is bounded by that check)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def _container_problem(members: list[zipfile.ZipInfo], *, compressed: int) -> str:
    most_members = settings.OFFICE_MAX_MEMBERS
    if len(members) > most_members:
        return f"{len(members)} parts inside, more than the {most_members} allowed (OFFICE_MAX_MEMBERS)"
    if any(member.flag_bits & 0x1 for member in members):
        return "its parts are encrypted (password-protected)"
    inflated = sum(member.file_size for member in members)
    most_bytes = settings.OFFICE_MAX_UNCOMPRESSED_BYTES
    if inflated > most_bytes:
        return (
            f"it would inflate to {filesizeformat(inflated)}, more than the {filesizeformat(most_bytes)} "
            "allowed (OFFICE_MAX_UNCOMPRESSED_BYTES)"
        )
    ratio = settings.OFFICE_MAX_RATIO
    if inflated > _RATIO_FLOOR_BYTES and inflated > ratio * max(compressed, 1):
        return (
            f"it would inflate {inflated // max(compressed, 1)} times its size, more than the {ratio} times "
            "allowed (OFFICE_MAX_RATIO); it looks like a zip bomb"
        )
    return ""
