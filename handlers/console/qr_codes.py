"""QR codes of invitation links as SVG documents (segno), fit for the console's strict CSP.

The SVG has no ``style`` attribute and no script: one ``path`` drawn with the
``stroke`` presentation attribute over a white square (a printed card stays
scannable on any paper). The medium error correction level survives a
smudged print; segno picks the smallest version that holds the link.
"""

from __future__ import annotations

import io

import segno

#: The module size in user units of the SVG; pages scale the image with CSS.
SCALE = 4


def qr_code(link: str) -> segno.QRCode:
    """The QR code the console draws for ``link`` (tests compare their decoding with it)."""
    return segno.make_qr(link, error="m")


def qr_svg(link: str, *, title: str) -> bytes:
    """``link`` as a standalone SVG document titled ``title`` (its accessible name)."""
    buffer = io.BytesIO()
    qr_code(link).save(
        buffer, kind="svg", scale=SCALE, border=4, dark="#000", light="#fff", xmldecl=True, svgns=True, title=title, nl=True
    )
    return buffer.getvalue()
