"""The web service: POST /predict (video + optional subtitles -> segments and timeline), GET /health, GET /."""

from __future__ import annotations

import base64
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from emorec.serve.page import INDEX_HTML

CHUNK = 1 << 20
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".mpg", ".mpeg", ".ts", ".wmv", ".3gp", ".ogv"}
SUBTITLE_SUFFIXES = {".srt", ".vtt", ".json", ".csv"}
MAX_SUBTITLE_MB = 5


class TooLarge(Exception):
    pass


def _save_upload(upload: UploadFile, dest: Path, limit_bytes: int) -> int:
    """Copy an upload to `dest` in chunks; TooLarge as soon as it passes `limit_bytes`."""
    size = 0
    with dest.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > limit_bytes:
                raise TooLarge(size)
            out.write(chunk)
    return size


def _safe_name(name: str | None, default: str) -> str:
    base = Path(name or default).name
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).strip("._")
    return (keep or default)[-100:]


def create_app(recognizer, *, max_upload_mb: float = 200.0, max_duration_s: float = 600.0,
               upload_dir: str | Path | None = None) -> FastAPI:
    """The FastAPI app around a loaded `Recognizer`. Uploads go to a per-request folder under `upload_dir`
    (a new temporary folder by default) that is removed before the response is sent."""
    from emorec.inference import MediaError
    from emorec.inference.segment import SegmentFileError

    limit = int(max_upload_mb * 1024 * 1024)
    own_root = upload_dir is None
    root = Path(upload_dir) if upload_dir else Path(tempfile.mkdtemp(prefix="emorec-serve-"))
    root.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()  # one prediction at a time: the models use every core

    @asynccontextmanager
    async def lifespan(app):
        yield
        if own_root:
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="emorec", version=_version(), lifespan=lifespan,
                  description="Emotion recognition in video: one prediction per utterance from the speaker's face, "
                              "voice and (with subtitles) words, fused by a transformer.")
    app.state.recognizer = recognizer
    app.state.upload_root = root
    app.state.max_upload_mb = max_upload_mb
    app.state.max_duration_s = max_duration_s

    @app.middleware("http")
    async def reject_large_bodies(request: Request, call_next):
        if request.url.path == "/predict":
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > limit + MAX_SUBTITLE_MB * 1024 * 1024:
                return JSONResponse(status_code=413, content={"detail": _too_large(int(length), max_upload_mb)})
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return INDEX_HTML

    @app.get("/health")
    def health() -> dict:
        """Service status, the classes the model predicts and the upload limits."""
        return {"status": "ok", "classes": list(recognizer.classes), "models": list(recognizer.model_keys),
                "max_upload_mb": max_upload_mb, "max_duration_s": max_duration_s}

    @app.post("/predict")
    def predict(video: UploadFile = File(..., description="the video clip"),
                subtitles: UploadFile | None = File(None, description="optional .srt/.vtt subtitles or .json/.csv transcript"),
                speaker_side: str = Form("auto", description="auto, left, right or full"),
                window: float | None = Form(None, description="fixed windows of this many seconds instead of speech detection")) -> dict:
        """Emotion per utterance of the uploaded video, with a base64 PNG timeline.

        Errors: 413 upload too large, 415 not a readable video, 422 too long or bad subtitles/parameters."""
        if speaker_side not in ("auto", "left", "right", "full"):
            raise HTTPException(422, f"speaker_side must be auto, left, right or full, got {speaker_side!r}")
        if window is not None and not (0.5 <= window <= max_duration_s):
            raise HTTPException(422, f"window must be between 0.5 and {max_duration_s} seconds, got {window}")
        vname = _safe_name(video.filename, "upload.mp4")
        if Path(vname).suffix.lower() not in VIDEO_SUFFIXES:
            raise HTTPException(415, f"{vname}: unsupported file type (expected a video: {', '.join(sorted(VIDEO_SUFFIXES))})")
        work = root / uuid.uuid4().hex
        work.mkdir()
        try:
            vpath = work / vname
            try:
                _save_upload(video, vpath, limit)
            except TooLarge as e:
                raise HTTPException(413, _too_large(e.args[0], max_upload_mb)) from None
            if vpath.stat().st_size == 0:
                raise HTTPException(415, f"{vname}: empty file")
            spath = None
            if subtitles is not None and subtitles.filename:
                sname = _safe_name(subtitles.filename, "subtitles.srt")
                if Path(sname).suffix.lower() not in SUBTITLE_SUFFIXES:
                    raise HTTPException(415, f"{sname}: unsupported subtitle type (expected .srt, .vtt, .json or .csv)")
                spath = work / ("subs-" + sname)
                try:
                    _save_upload(subtitles, spath, MAX_SUBTITLE_MB * 1024 * 1024)
                except TooLarge:
                    raise HTTPException(413, f"{sname}: subtitles larger than {MAX_SUBTITLE_MB} MB") from None
            try:
                info = recognizer.probe(vpath)
            except MediaError as e:
                raise HTTPException(415, f"{vname}: {e.reason}") from None
            if info.duration > max_duration_s:
                raise HTTPException(422, f"{vname}: video is {info.duration:.1f} s long; the limit is {max_duration_s:g} s")
            t0 = time.perf_counter()
            try:
                with lock:
                    result = recognizer.predict_video(vpath, subtitles=spath, window=window, speaker_side=speaker_side)
            except MediaError as e:
                raise HTTPException(415, f"{vname}: {e.reason}") from None
            except SegmentFileError as e:
                raise HTTPException(422, f"{subtitles.filename}:{e.line}: {e.reason}" if e.line
                                    else f"{subtitles.filename}: {e.reason}") from None
            body = result.to_dict()
            body["file"] = video.filename
            body["elapsed_s"] = round(time.perf_counter() - t0, 3)
            body["timeline_png"] = base64.b64encode(result.timeline_png()).decode("ascii")
            return body
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return app


def _too_large(size: int, max_mb: float) -> str:
    return f"upload too large ({size / 1024 / 1024:.1f} MB); the limit is {max_mb:g} MB"


def _version() -> str:
    from emorec import __version__

    return __version__
