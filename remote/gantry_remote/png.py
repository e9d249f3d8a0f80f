"""The smallest PNG encoder that browsers and libpng accept: 8-bit grey or palette, non-interlaced,
filter 0, one zlib IDAT. Standard library only, so the fake trainer (no numpy, no torch) writes
its game pictures with the same code as the real one (thumbnail.py)."""
import struct
import zlib
from typing import Optional

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, pixels: bytes, palette: Optional[bytes] = None) -> bytes:
    """`pixels`: height rows of width bytes, grey levels, or indices into `palette` (RGB triples, 1-256)."""
    if width < 1 or height < 1 or len(pixels) != width * height:
        raise ValueError("encode_png needs width x height = %d x %d pixel bytes, got %d" % (width, height, len(pixels)))
    colour_type = 0 if palette is None else 3
    parts = [PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        if len(palette) % 3 or not 1 <= len(palette) // 3 <= 256 or max(pixels) >= len(palette) // 3:
            raise ValueError("the palette must hold 1-256 RGB triples and cover every pixel index")
        parts.append(_chunk(b"PLTE", palette))
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))  # filter type 0 per row
    parts.append(_chunk(b"IDAT", zlib.compress(rows, 9)))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)
