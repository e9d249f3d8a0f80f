"""games/<game>/thumbnail.png: a valid PNG (decoded by libpng through OpenCV), never seen half-written by
a concurrent reader, and written by real trainer runs of a built-in game and of real Atari Breakout."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

if os.environ.get("CI") != "true":
    pytest.importorskip("cv2", reason="pip install opencv-python-headless (or bash .ci/run)")
import cv2  # noqa: E402

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))

from gantry_remote.envs.base import CHANNEL_PALETTE  # noqa: E402
from gantry_remote.thumbnail import (  # noqa: E402
    GRID_SCALE,
    THUMBNAIL_FILE,
    TMP_PREFIX,
    ThumbnailWriter,
    frame_png,
    grid_png,
)


def decode(data: bytes) -> np.ndarray:
    assert data, "read an empty file"
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "libpng could not decode %d bytes" % len(data)
    return image


def bgr(channel: int):
    r, g, b = (int(v) for v in CHANNEL_PALETTE[channel % len(CHANNEL_PALETTE)])
    return [b, g, r]


def grid_obs(seed: int, channels: int = 4) -> np.ndarray:
    return (np.random.default_rng(seed).random((channels, 10, 10)) < 0.2).astype(np.float32)


def test_grid_picture_decodes_to_the_channel_colours_upscaled():
    layers = np.zeros((4, 10, 10), dtype=np.float32)
    layers[0, 2, 3] = 1  # channel 0 alone
    layers[1, 5, 5] = 1
    layers[3, 5, 5] = 1  # channel 3 over channel 1
    data = grid_png(layers)
    assert len(data) < 1024
    image = decode(data)  # palette PNG -> BGR
    assert image.shape == (10 * GRID_SCALE, 10 * GRID_SCALE, 3)
    cell = lambda y, x: image[y * GRID_SCALE:(y + 1) * GRID_SCALE, x * GRID_SCALE:(x + 1) * GRID_SCALE]  # noqa: E731
    assert (cell(2, 3) == bgr(0)).all()
    assert (cell(5, 5) == bgr(3)).all()
    assert (cell(0, 0) == 0).all()
    assert int((image.sum(axis=2) > 0).sum()) == 2 * GRID_SCALE * GRID_SCALE


def test_atari_picture_is_the_newest_grey_frame():
    frames = np.random.default_rng(1).integers(0, 256, (4, 84, 84), dtype=np.uint8)
    image = decode(frame_png(frames))
    assert image.dtype == np.uint8 and image.shape == (84, 84)
    assert np.array_equal(image, frames[-1])


def test_a_concurrent_reader_never_sees_a_partial_picture(tmp_path):
    """A writer process replaces the picture 400 times, alternating two pictures of different sizes; a
    reader in this process reads all the while: every read is one whole picture or the other."""
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, numpy as np, torch\n"
        "from gantry_remote.thumbnail import ThumbnailWriter\n"
        "frames = [torch.from_numpy(np.random.default_rng(s).integers(0, 256, (1, 4, 84, 84), dtype=np.uint8)) for s in (1, 2)]\n"
        "frames[1][:, :, 40:] = 0  # compresses to a much smaller file\n"
        "w = ThumbnailWriter(sys.argv[1], 'ale', 1e-9, print)\n"
        "for i in range(400):\n"
        "    w.maybe_write(frames[i % 2])\n"
        "    w.flush()\n"
    ), str(tmp_path)], cwd=REMOTE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    expected = [np.random.default_rng(s).integers(0, 256, (4, 84, 84), dtype=np.uint8)[-1] for s in (1, 2)]
    expected[1][40:] = 0
    path = tmp_path / THUMBNAIL_FILE
    reads, seen = 0, set()
    try:
        while writer.poll() is None:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # before the first rename
            image = decode(data)
            which = [i for i, e in enumerate(expected) if np.array_equal(image, e)]
            assert which, "read %d bytes that are neither picture" % len(data)
            seen.add(which[0])
            reads += 1
    finally:
        if writer.poll() is None:
            writer.kill()
        out, _ = writer.communicate()
    assert writer.returncode == 0, out
    assert reads >= 20 and seen == {0, 1}, (reads, seen)
    assert sorted(os.listdir(tmp_path)) == [THUMBNAIL_FILE]  # no temp file left behind


def test_leftover_temp_files_are_removed_and_a_failing_disk_never_stops_training(tmp_path):
    (tmp_path / (TMP_PREFIX + "abc")).write_bytes(b"half a pic")
    (tmp_path / ".tmp-someone-else").write_bytes(b"{}")
    lines = []
    writer = ThumbnailWriter(str(tmp_path), "builtin", 1e-9, lines.append)
    assert sorted(os.listdir(tmp_path)) == [".tmp-someone-else"]

    (tmp_path / THUMBNAIL_FILE).mkdir()  # the rename onto it fails (IsADirectoryError): an OSError like ENOSPC
    obs = torch.from_numpy(grid_obs(3)[None])
    for _ in range(2):
        writer.maybe_write(obs)
        writer.flush()
    assert len(lines) == 1 and "training goes on" in lines[0], lines
    assert sorted(os.listdir(tmp_path)) == [".tmp-someone-else", THUMBNAIL_FILE]  # its temp file was removed
    (tmp_path / THUMBNAIL_FILE).rmdir()
    writer.maybe_write(obs)
    writer.flush()
    assert lines[-1].endswith("is written again")
    assert (tmp_path / THUMBNAIL_FILE).read_bytes() == grid_png(grid_obs(3))


def test_the_interval_is_kept_and_zero_turns_pictures_off(tmp_path):
    obs = torch.from_numpy(grid_obs(4)[None])
    writer = ThumbnailWriter(str(tmp_path), "builtin", 3.0, print)
    writer.maybe_write(obs, now=100.0)
    writer.flush()
    first = os.stat(tmp_path / THUMBNAIL_FILE).st_ino
    writer.maybe_write(obs, now=102.9)
    assert os.stat(tmp_path / THUMBNAIL_FILE).st_ino == first
    writer.maybe_write(obs, now=103.0)
    writer.flush()
    assert os.stat(tmp_path / THUMBNAIL_FILE).st_ino != first  # a new file renamed over the old one

    off = tmp_path / "off"
    off.mkdir()
    never = ThumbnailWriter(str(off), "builtin", 0, print)
    never.maybe_write(obs)
    never.flush()
    assert os.listdir(off) == []


def _train(run_dir: Path, *argv: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "gantry_remote", "train", "--run-dir", str(run_dir), "--device", "cpu",
                           "--thumbnail-seconds", "0.001", "--no-export", *argv],
                          cwd=REMOTE, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "could not write" not in done.stdout


def _final_env0_obs(run_dir: Path) -> np.ndarray:
    """env 0's observation at the end, from the final checkpoint (nothing steps between it and the last picture)."""
    manifest = json.loads((run_dir / "ckpt" / "manifest.json").read_text())
    state = torch.load(str(run_dir / "ckpt" / manifest["checkpoints"][-1]["file"]), weights_only=True)
    return state["next_obs"][0].numpy()


def test_the_trainer_writes_the_picture_of_a_built_in_game(tmp_path):
    run_dir = tmp_path / "space_invaders"
    _train(run_dir, "--game", "space_invaders", "--backend", "builtin", "--num-envs", "8", "--num-steps", "32",
           "--minibatch-size", "128", "--update-epochs", "1", "--total-steps", "1024")
    data = (run_dir / THUMBNAIL_FILE).read_bytes()
    assert data == grid_png(_final_env0_obs(run_dir))
    image = decode(data)
    assert image.shape == (80, 80, 3)
    colours = {tuple(int(v) for v in px) for px in image.reshape(-1, 3)}
    allowed = {(0, 0, 0)} | {tuple(bgr(c)) for c in range(len(CHANNEL_PALETTE))}
    assert colours <= allowed and len(colours) >= 3, colours  # the cannon, the aliens and the background


def test_the_trainer_writes_the_picture_of_real_atari_breakout(tmp_path):
    if os.environ.get("CI") != "true":
        pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' gymnasium (or bash .ci/run)")
    run_dir = tmp_path / "Breakout"
    _train(run_dir, "--game", "Breakout", "--backend", "ale", "--num-envs", "2", "--num-steps", "128",
           "--minibatch-size", "64", "--update-epochs", "1", "--total-steps", "512")
    data = (run_dir / THUMBNAIL_FILE).read_bytes()
    assert len(data) < 8 * 1024
    final = _final_env0_obs(run_dir)
    image = decode(data)
    assert image.shape == (84, 84) and np.array_equal(image, final[-1])
    assert image.std() > 5  # Breakout's walls and bricks, not a blank screen
