"""Video files: colour frames in (OpenCV), an H.264 + AAC MP4 with sound out (PyAV, the ``lips`` extra: its
wheel carries FFmpeg, nothing else to install). Outputs are written to a temporary file and published whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sightsound.errors import UserInputError
from sightsound.vision.faces import _cv2

MAX_FRAMES = 25 * 60 * 10


def read_frames(path: str | Path, colour: bool = True, limit: int = MAX_FRAMES) -> tuple[np.ndarray, float]:
    """(frames, frames per second) of a video: (V, H, W, 3) uint8 RGB, or (V, H, W) grey with ``colour=False``;
    at most ``limit`` frames."""
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    frames = []
    code = cv2.COLOR_BGR2RGB if colour else cv2.COLOR_BGR2GRAY
    try:
        if not capture.isOpened():
            raise UserInputError(f"{path}: cannot read it as a video")
        rate = capture.get(cv2.CAP_PROP_FPS) or 25.0
        while len(frames) < limit:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, code))
    finally:
        capture.release()
    if not frames:
        raise UserInputError(f"{path}: no video frames could be decoded")
    return np.stack(frames), float(rate)


def read_rgb_frames(path: str | Path, limit: int = MAX_FRAMES) -> tuple[np.ndarray, float]:
    """(frames (V, H, W, 3) uint8 RGB, frames per second) of a video, at most ``limit`` frames."""
    return read_frames(path, True, limit)


def even_size(frames: np.ndarray) -> np.ndarray:
    """Frames (V, H, W, 3) cut to an even height and width (H.264's 4:2:0 colour needs both even)."""
    return frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]


def write_video(path: str | Path, frames: np.ndarray, fps: float, audio: np.ndarray | None = None,
                sample_rate: int = 16000, *, overwrite: bool = False, crf: int = 20) -> Path:
    """Write RGB uint8 frames (V, H, W, 3) as H.264 (yuv420p) at ``fps``, with mono ``audio`` (S,) in [-1, 1]
    as AAC when given, into an MP4 at ``path``."""
    try:
        import av
    except ImportError:
        raise UserInputError("writing video needs PyAV: pip install av (or the 'lips' extra)") from None
    from sightsound.fileio import atomic_path

    path = Path(path)
    if path.exists() and not overwrite:
        raise UserInputError(f"{path}: exists; pass --force to overwrite it")
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise UserInputError("expected RGB uint8 frames (V, H, W, 3)")
    frames = even_size(frames)
    if min(frames.shape[1:3]) < 16:
        raise UserInputError(f"frames of {frames.shape[2]} x {frames.shape[1]} pixels are too small for a video")
    from fractions import Fraction

    with atomic_path(path, overwrite=overwrite) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            video = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            video.options = {"crf": str(crf), "preset": "veryfast"}
            sound = None
            if audio is not None:
                sound = container.add_stream("aac", rate=sample_rate)
                sound.layout = "mono"
            for image in frames:
                for packet in video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
            if sound is not None:
                pcm = np.clip(np.asarray(audio, dtype=np.float32), -1, 1)[None]   # (1, S) planar float
                block = 1024
                for start in range(0, pcm.shape[1], block):
                    chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, start: start + block]),
                                                       format="fltp", layout="mono")
                    chunk.sample_rate = sample_rate
                    chunk.pts = start
                    for packet in sound.encode(chunk):
                        container.mux(packet)
                for packet in sound.encode():
                    container.mux(packet)
    return path


def video_info(path: str | Path) -> dict:
    """{"frames", "fps", "width", "height", "audio_seconds"} of a video file (PyAV), for checks and reports."""
    import av

    with av.open(str(path)) as container:
        out = {"frames": 0, "fps": None, "width": None, "height": None, "audio_seconds": 0.0}
        if container.streams.video:
            stream = container.streams.video[0]
            out.update(fps=float(stream.average_rate or 0), width=stream.width, height=stream.height)
            out["frames"] = sum(1 for _ in container.decode(stream))
        container.seek(0)
        if container.streams.audio:
            stream = container.streams.audio[0]
            out["audio_seconds"] = sum(f.samples for f in container.decode(stream)) / stream.rate
    return out
