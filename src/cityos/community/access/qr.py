"""QR codes of community.access: the join QR printed at an estate's gates, the pass QR on a phone."""

from __future__ import annotations

import segno


def qr_svg(data: str, *, scale: int = 6) -> str:
    """An inline SVG QR (dark on white, with its quiet zone)."""
    return str(segno.make(data, error="m").svg_inline(scale=scale, dark="#111", light="#fff", title="QR"))


def join_url(base: str, estate_id: int) -> str:
    """What the join QR opens: the estate's join page."""
    return f"{base.rstrip('/')}/community/join/{estate_id}"
