#!/usr/bin/env python3
"""Draws Gantry's icons (the ◢ mark on a dark tile) as PNGs with the standard library only.

resources/icons/icon.png (512 px, app/window icon) and model.png (64 px, drag-out image).
"""
import os
import struct
import sys
import zlib

BG = (15, 17, 21, 255)
TILE = (27, 32, 41, 255)
ACCENT = (91, 156, 255, 255)


def pixel(x: float, y: float, size: int):
    margin = size * 0.06
    radius = size * 0.18
    inside_x = min(max(x, margin + radius), size - margin - radius)
    inside_y = min(max(y, margin + radius), size - margin - radius)
    if (x - inside_x) ** 2 + (y - inside_y) ** 2 > radius ** 2:
        return (0, 0, 0, 0)
    lo, hi = size * 0.26, size * 0.74
    if lo <= x <= hi and lo <= y <= hi and (x - lo) >= (hi - y):
        return ACCENT
    return TILE if size > 32 else BG


def png(size: int) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x + 0.5, y + 0.5, size)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "resources", "icons")
    os.makedirs(out, exist_ok=True)
    for name, size in (("icon.png", 512), ("model.png", 64)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(png(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
