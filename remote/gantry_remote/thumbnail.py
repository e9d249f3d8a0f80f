"""A small live picture of the game a trainer plays, for the desktop's game card.

Every few seconds the trainer writes `games/<game>/thumbnail.png`: env 0's current observation as
a tiny PNG, replaced atomically (temp + fsync + rename), so a reader (the desktop over SFTP, on a
SLURM cluster's shared filesystem too) sees the previous picture or the new one, never half of one.

* Built-in games: the 10x10 grid, each object channel in a fixed colour (the palette `render()`
  uses), later channels over earlier ones, 8x nearest upscale: an 80x80 palette PNG (150-300 bytes).
* Atari: the newest 84x84 grey frame of the stack the agent sees (under 8 KB).

The picture comes from the observation tensor the trainer already holds (one copy of one env's
observation to the host every few seconds), so it works the same with and without CUDA graphs; the
file write runs off the training thread. A failed write (full disk) is logged once and never stops training.

The PNG encoder (png.py) is the format's minimum, stdlib only.
"""
import glob
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Optional

import numpy as np
import torch

from . import atomic, png
from .envs.base import CHANNEL_PALETTE

THUMBNAIL_FILE = "thumbnail.png"
TMP_PREFIX = ".tmp-thumbnail-"
GRID_SCALE = 8
# Index 0 is the empty cell (black); channel c paints with index 1 + c % len(CHANNEL_PALETTE).
GRID_PALETTE = np.vstack([np.zeros((1, 3), dtype=np.uint8), CHANNEL_PALETTE])


def encode_png(pixels: np.ndarray, palette: Optional[np.ndarray] = None) -> bytes:
    """An (H, W) uint8 array as a PNG: grey levels, or indices into `palette` ((K, 3) uint8)."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ValueError("encode_png takes an (H, W) uint8 array, not %s %s" % (pixels.dtype, pixels.shape))
    rgb = None if palette is None else np.ascontiguousarray(palette, dtype=np.uint8).tobytes()
    return png.encode_png(pixels.shape[1], pixels.shape[0], np.ascontiguousarray(pixels).tobytes(), rgb)


def grid_png(layers: np.ndarray, scale: int = GRID_SCALE) -> bytes:
    """A built-in game's observation of one env ([C, H, W], 0/1) as a palette PNG, `scale`x upscaled."""
    indices = np.zeros(layers.shape[1:], dtype=np.uint8)
    for channel in range(layers.shape[0]):  # later channels paint over earlier ones, as render() does
        indices[layers[channel] > 0.5] = 1 + channel % len(CHANNEL_PALETTE)
    return encode_png(np.kron(indices, np.ones((scale, scale), dtype=np.uint8)), GRID_PALETTE)


def frame_png(frames: np.ndarray) -> bytes:
    """An Atari observation of one env ([stack, 84, 84] uint8): the newest frame, grey."""
    return encode_png(np.ascontiguousarray(frames[-1], dtype=np.uint8))


class ThumbnailWriter:
    """Writes run_dir/thumbnail.png from env 0's observation at most every `interval_s` seconds.

    The training thread only copies and encodes (well under a millisecond); the write and its fsyncs
    (~10 ms, more on a busy or network disk) run on one background thread. While a write is still
    going the next picture is skipped, so a slow disk never queues work or holds up training."""

    def __init__(self, run_dir: str, backend: str, interval_s: float, log: Callable[[str], None]):
        self.path = os.path.join(run_dir, THUMBNAIL_FILE)
        self.encode = grid_png if backend == "builtin" else frame_png
        self.interval_s = interval_s
        self.log = log
        self.last_write = -float("inf")
        self.failing = False
        self.pending: Optional[Future] = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbnail")
        # A kill between the temp file's creation and its rename leaves it behind; only we use this prefix.
        for stray in glob.glob(os.path.join(glob.escape(run_dir), TMP_PREFIX + "*")):
            try:
                os.unlink(stray)
            except FileNotFoundError:
                pass

    def maybe_write(self, obs: torch.Tensor, now: Optional[float] = None) -> None:
        """`obs`: the batch of observations ([N, ...]); only env 0's is copied to the host."""
        now = time.monotonic() if now is None else now
        if self.interval_s <= 0 or now - self.last_write < self.interval_s:
            return
        if self.pending is not None and not self.pending.done():
            return
        self._collect()
        self.last_write = now
        self.pending = self.pool.submit(atomic.write_bytes, self.path, self.encode(obs[0].detach().cpu().numpy()), TMP_PREFIX)

    def flush(self) -> None:
        """Wait for the write in progress (the interpreter also waits for it at exit)."""
        if self.pending is not None:
            wait([self.pending])
        self._collect()

    def _collect(self) -> None:
        """Report the last write's outcome: its first failure, and the recovery after failures."""
        if self.pending is None:
            return
        error, self.pending = self.pending.exception(), None
        if isinstance(error, OSError):
            if not self.failing:
                self.log("could not write %s (training goes on; the card keeps its last picture): %s" % (self.path, error))
            self.failing = True
        elif error is not None:
            raise error
        else:
            if self.failing:
                self.log("%s is written again" % THUMBNAIL_FILE)
            self.failing = False
