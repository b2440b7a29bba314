"""Tiny hand-built PDFs, so PDF extraction is tested on real files without a PDF writer."""


def make_pdf(lines: list[str], title: str = "") -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with ``title`` in its document information."""
    return make_pdf_pages([lines], title=title)


def make_pdf_pages(pages: list[list[str]], title: str = "") -> bytes:
    """A PDF with one page per item of ``pages``, each showing its lines in Helvetica."""
    first_content = 4 + len(pages)  # catalog, pages, the font, then each page and its content stream
    kids = " ".join(f"{4 + n} 0 R" for n in range(len(pages)))
    page_objects = [
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {first_content + n} 0 R "
        f"/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        for n in range(len(pages))
    ]
    contents = [
        _stream(("BT /F1 12 Tf 72 720 Td " + " ".join(f"({line}) Tj 0 -16 Td" for line in lines) + " ET").encode())
        for lines in pages
    ]
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *page_objects,
            *contents,
            info.encode(),
        ]
    )


def image_only_pdf() -> bytes:
    """A one-page PDF whose page is a picture (a 2x2 grey image), as a scan is: no text layer at all."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
            _stream(b"q 200 0 0 200 72 500 cm /Im1 Do Q"),
            b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length 4 >>\nstream\n\x80\x80\x80\x80\nendstream",
            b"<< >>",
        ]
    )


def pdf_with_font_map(text: list[int], title: list[int] | None = None) -> bytes:
    """A one-page PDF showing character codes 1, 2, 3… that its font maps to the UTF-16 code units ``text``.

    PDF producers write such maps (ToUnicode CMaps) and nothing stops one from mapping a code to
    NUL or to half a surrogate pair; ``title``, if given, is the document title in UTF-16 too.
    """
    mapping = b"\n".join(b"<%02X> <%04X>" % (code, unit) for code, unit in enumerate(text, start=1))
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <00> <FF> "
        b"endcodespacerange\n%d beginbfchar\n%s\nendbfchar\nendcmap CMapName currentdict /CMap defineresource "
        b"pop end end" % (len(text), mapping)
    )
    shown = b"".join(b"%02X" % code for code in range(1, len(text) + 1))
    content = b"BT /F1 12 Tf 72 720 Td <%s> Tj ET" % shown
    info = b"<< /Title <FEFF%s> >>" % b"".join(b"%04X" % unit for unit in title) if title is not None else b"<< >>"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            _stream(cmap),
            info,
        ]
    )


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def _pdf(objects: list[bytes]) -> bytes:
    """Number the objects from 1 and add the cross-reference table that lets a reader find them."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
