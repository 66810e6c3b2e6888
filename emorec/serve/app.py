"""The web service: POST /predict (video + optional subtitles -> segments and timeline), GET /health, GET /."""

from __future__ import annotations

import base64
import math
import shutil
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.requests import ClientDisconnect

from emorec.media import VIDEO_SUFFIXES
from emorec.serve.limits import BodyLimit, PredictionQueue, QueueBusy, segment_limit
from emorec.serve.page import INDEX_HTML
from emorec.serve.uploads import FileRule, UploadError, receive_form

SUBTITLE_SUFFIXES = {".srt", ".vtt", ".json", ".csv"}
MAX_SUBTITLE_MB = 5
FORM_OVERHEAD = 64 * 1024  # multipart headers and the small fields, on top of the two files
PREDICT_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["video"],
                    "properties": {
                        "video": {"type": "string", "format": "binary", "description": "the video clip"},
                        "subtitles": {
                            "type": "string",
                            "format": "binary",
                            "description": "optional .srt/.vtt subtitles or .json/.csv transcript",
                        },
                        "speaker_side": {
                            "type": "string",
                            "default": "auto",
                            "description": "auto, left, right or full",
                        },
                        "window": {
                            "type": "number",
                            "description": "fixed windows of this many seconds instead of speech detection",
                        },
                    },
                }
            }
        },
    }
}


def _safe_name(name: str | None, default: str) -> str:
    base = Path(name or default).name
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).strip("._")
    return (keep or default)[-100:]


@dataclass
class Limits:
    """What one request may ask of the service (see docs/serve.md)."""

    max_upload_mb: float = 200.0
    max_duration_s: float = 600.0
    max_subtitle_mb: float = MAX_SUBTITLE_MB
    max_segments: int = 1000
    max_segments_per_s: float = 4.0
    queue_timeout_s: float = 30.0
    max_queue: int = 8


def create_app(
    recognizer,
    *,
    max_upload_mb: float = 200.0,
    max_duration_s: float = 600.0,
    upload_dir: str | Path | None = None,
    max_subtitle_mb: float = MAX_SUBTITLE_MB,
    max_segments: int = 1000,
    max_segments_per_s: float = 4.0,
    queue_timeout_s: float = 30.0,
    max_queue: int = 8,
) -> FastAPI:
    """The FastAPI app around a loaded `Recognizer`. Uploads go to a per-request folder under `upload_dir`
    (a new temporary folder by default) that is removed before the response is sent.

    Each upload field is limited while it streams in (`max_upload_mb` the video, `max_subtitle_mb` the
    subtitles), a clip is cut into at most `max_segments` segments and `max_segments_per_s` per second of
    video, and a request that cannot get the model within `queue_timeout_s` seconds (or finds `max_queue`
    requests waiting already) is answered 503 with Retry-After."""
    limits = Limits(
        max_upload_mb, max_duration_s, max_subtitle_mb, max_segments, max_segments_per_s, queue_timeout_s, max_queue
    )
    own_root = upload_dir is None
    root = Path(upload_dir) if upload_dir else Path(tempfile.mkdtemp(prefix="emorec-serve-"))
    root.mkdir(parents=True, exist_ok=True)
    queue = PredictionQueue(queue_timeout_s, max_queue)  # one prediction at a time: the models use every core

    @asynccontextmanager
    async def lifespan(app):
        yield
        if own_root:
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(
        title="emorec",
        version=_version(),
        lifespan=lifespan,
        description="Emotion recognition in video: one prediction per utterance from the speaker's face, "
        "voice and (with subtitles) words, fused by a transformer.",
    )
    app.state.recognizer = recognizer
    app.state.upload_root = root
    app.state.max_upload_mb = max_upload_mb
    app.state.max_duration_s = max_duration_s
    app.state.limits = limits
    app.state.queue = queue
    body_limit = int((max_upload_mb + max_subtitle_mb) * 1024 * 1024) + FORM_OVERHEAD
    app.add_middleware(
        BodyLimit,
        path="/predict",
        limit=body_limit,
        message=lambda size: _too_large(size, max_upload_mb + max_subtitle_mb),
    )
    _add_routes(app, recognizer, root, limits, queue)
    return app


def _add_routes(app: FastAPI, recognizer, root: Path, limits: Limits, queue: PredictionQueue) -> None:
    rules = _upload_rules(limits)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return INDEX_HTML

    @app.get("/health")
    def health() -> dict:
        """Service status, the classes the model predicts and the upload limits."""
        return {
            "status": "ok",
            "classes": list(recognizer.classes),
            "models": list(recognizer.model_keys),
            "max_upload_mb": limits.max_upload_mb,
            "max_duration_s": limits.max_duration_s,
        }

    @app.post("/predict", openapi_extra=PREDICT_FORM)
    async def predict(request: Request):
        """Emotion per utterance of the uploaded video, with a base64 PNG timeline.

        Errors: 413 upload too large, 415 not a readable video, 422 too long, too many segments or bad
        subtitles/parameters, 503 the model stayed busy (retry after the Retry-After seconds)."""
        work = root / uuid.uuid4().hex
        work.mkdir()
        try:
            try:
                form = await receive_form(request, work, rules, {"speaker_side", "window"})
            except UploadError as e:  # the rest of the body is not read: the connection closes after the answer
                raise HTTPException(e.status, e.detail, {"Connection": "close"}) from None
            job = _job(form, limits)
            return await run_in_threadpool(_run, recognizer, job, limits, queue)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except HTTPException as e:
            raise HTTPException(e.status_code, _hide_paths(e.detail, work, root), e.headers) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _upload_rules(limits: Limits) -> dict[str, FileRule]:
    def video_name(filename: str) -> str:
        name = _safe_name(filename, "upload.mp4")
        if Path(name).suffix.lower() not in VIDEO_SUFFIXES:
            kinds = ", ".join(sorted(VIDEO_SUFFIXES))
            raise UploadError(415, f"{name}: unsupported file type (expected a video: {kinds})")
        return name

    def subtitle_name(filename: str) -> str:
        name = _safe_name(filename, "subtitles.srt")
        if Path(name).suffix.lower() not in SUBTITLE_SUFFIXES:
            raise UploadError(415, f"{name}: unsupported subtitle type (expected .srt, .vtt, .json or .csv)")
        return "subs-" + name

    mb = 1024 * 1024
    return {
        "video": FileRule(
            int(limits.max_upload_mb * mb),
            video_name,
            lambda f: f"{_safe_name(f, 'upload.mp4')}: " + _too_large(None, limits.max_upload_mb),
        ),
        "subtitles": FileRule(
            int(limits.max_subtitle_mb * mb),
            subtitle_name,
            lambda f: f"{_safe_name(f, 'subtitles.srt')}: subtitles larger than {limits.max_subtitle_mb:g} MB",
        ),
    }


@dataclass
class _Job:
    video: Path
    video_name: str  # as the client named it
    subtitles: Path | None
    subtitles_name: str
    speaker_side: str
    window: float | None


def _job(form, limits: Limits) -> _Job:
    """The request's parameters, checked (HTTPException 415/422 for what cannot be used)."""
    side = form.values.get("speaker_side", "auto").strip() or "auto"
    if side not in ("auto", "left", "right", "full"):
        raise HTTPException(422, f"speaker_side must be auto, left, right or full, got {side[:40]!r}")
    window = None
    if form.values.get("window", "").strip():
        try:
            window = float(form.values["window"])
        except ValueError:
            given = form.values["window"][:40]
            raise HTTPException(422, f"window must be a number of seconds, got {given!r}") from None
        if not (0.5 <= window <= limits.max_duration_s):
            raise HTTPException(422, f"window must be between 0.5 and {limits.max_duration_s} seconds, got {window}")
    video = form.files.get("video")
    if video is None:
        raise HTTPException(422, "video: a video file is required (multipart field `video`)")
    if video.size == 0:
        raise HTTPException(415, f"{video.path.name}: empty file")
    subs = form.files.get("subtitles")
    return _Job(video.path, video.filename, subs.path if subs else None, subs.filename if subs else "", side, window)


def _run(recognizer, job: _Job, limits: Limits, queue: PredictionQueue) -> dict:
    """Probe, check the limits, wait for the model and predict (in a worker thread)."""
    from emorec.inference import MediaError
    from emorec.inference.segment import SegmentFileError

    vname = job.video.name
    try:
        info = recognizer.probe(job.video)
    except MediaError as e:
        raise HTTPException(415, f"{vname}: {e.reason}") from None
    if info.duration > limits.max_duration_s:
        raise HTTPException(
            422, f"{vname}: video is {info.duration:.1f} s long; the limit is {limits.max_duration_s:g} s"
        )
    try:
        _check_segment_count(job, info.duration, limits)
        t0 = time.perf_counter()
        with queue.turn():
            result = recognizer.predict_video(
                job.video, subtitles=job.subtitles, window=job.window, speaker_side=job.speaker_side
            )
    except QueueBusy as e:
        raise HTTPException(
            503, f"{e.reason}; retry in {e.retry_after} s", headers={"Retry-After": str(e.retry_after)}
        ) from None
    except MediaError as e:
        raise HTTPException(415, f"{vname}: {e.reason}") from None
    except SegmentFileError as e:
        raise HTTPException(
            422, f"{job.subtitles_name}:{e.line}: {e.reason}" if e.line else f"{job.subtitles_name}: {e.reason}"
        ) from None
    body = result.to_dict()
    body["path"] = body["file"] = job.video_name  # the client's name, never the server's temporary path
    body["elapsed_s"] = round(time.perf_counter() - t0, 3)
    body["timeline_png"] = base64.b64encode(result.timeline_png()).decode("ascii")
    names = {str(job.video): job.video_name}
    if job.subtitles is not None:
        names[str(job.subtitles)] = job.subtitles_name
    return _hide_paths(body, job.video.parent, job.video.parent.parent, names)


def _check_segment_count(job: _Job, duration: float, limits: Limits) -> None:
    """422 before any model work when the clip would be cut into more segments than the limits allow."""
    from emorec.inference.segment import clip_to_duration, read_segments_file

    allowed = segment_limit(duration, limits.max_segments, limits.max_segments_per_s)
    if job.subtitles is not None:
        count, what = len(clip_to_duration(read_segments_file(job.subtitles), duration)), job.subtitles_name
    elif job.window is not None:
        count, what = math.ceil(duration / job.window), f"window {job.window:g} s"
    else:
        return  # speech detection: bounded by the shortest speech segment and gap
    if count > allowed:
        raise HTTPException(
            422,
            f"{what}: {count} segments in a {duration:.1f} s video; the limit is {allowed} "
            f"({limits.max_segments_per_s:g} per second of video, at most {limits.max_segments})",
        )


def _hide_paths(value, work: Path, root: Path, names: dict[str, str] | None = None):
    """`value` (a message or a JSON body) with the server's upload paths replaced by the client's names."""
    if isinstance(value, str):
        for path, name in sorted((names or {}).items(), key=lambda kv: -len(kv[0])):
            value = value.replace(path, name)
        return value.replace(str(work) + "/", "").replace(str(work), "").replace(str(root), "")
    if isinstance(value, dict):
        return {k: _hide_paths(v, work, root, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_paths(v, work, root, names) for v in value]
    return value


def _too_large(size: int | None, max_mb: float) -> str:
    if size is None:
        return f"upload too large; the limit is {max_mb:g} MB"
    return f"upload too large ({size / 1024 / 1024:.1f} MB); the limit is {max_mb:g} MB"


def _version() -> str:
    from emorec import __version__

    return __version__
