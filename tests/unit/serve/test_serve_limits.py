"""The web service bounds the work of one request: bytes while they stream (chunked bodies too), segments per
clip, time waiting for the model; and no response shows a server path. A fake recognizer stands in for the model."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from emorec.inference.recognizer import MediaError
from emorec.inference.segment import read_segments_file
from emorec.serve import create_app

MB = 1024 * 1024
BOUNDARY = "emorecTestBoundary"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


class FakeRecognizer:
    """Probes every clip as `duration` seconds long; a prediction sleeps `sleep` s and reports its paths back
    in warnings, as the real one does for cues outside the clip or undecodable frames."""

    classes = ("neutral", "happy")
    model_keys = ("audio",)

    def __init__(self, duration: float = 3.0, sleep: float = 0.0, bad_media: bool = False):
        self.duration, self.sleep, self.bad_media = duration, sleep, bad_media
        self.calls = 0
        self.started = threading.Event()

    def probe(self, path):
        if self.bad_media:
            raise MediaError(path, f"not a readable video (cannot open {path})")
        return SimpleNamespace(duration=self.duration)

    def predict_video(self, path, subtitles=None, window=None, speaker_side="auto"):
        self.calls += 1
        self.started.set()
        time.sleep(self.sleep)
        cues = read_segments_file(subtitles) if subtitles else []
        body = {
            "path": str(path),
            "duration": self.duration,
            "classes": list(self.classes),
            "segmentation": "fake",
            "warnings": [f"{subtitles}: no cue falls inside the video", f"frames unavailable: {path}: bad"],
            "segments": [{"start": c.start, "end": c.end, "text": c.text} for c in cues],
        }
        return SimpleNamespace(to_dict=lambda: dict(body), timeline_png=lambda: PNG)


def _client(rec, tmp_path, **limits) -> TestClient:
    return TestClient(create_app(rec, upload_dir=tmp_path / "uploads", **limits), raise_server_exceptions=False)


def _srt(n: int, duration: float) -> bytes:
    step = duration / n  # overlapping cues of 0.5 s, all starting inside the clip
    cues = [f"{i + 1}\n{_stamp(i * step)} --> {_stamp(i * step + 0.5)}\ncue {i}\n" for i in range(n)]
    return "\n".join(cues).encode()


def _stamp(t: float) -> str:
    ms = int(t * 1000)
    return f"00:{ms // 60000:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _post(client, subtitles: bytes | None = None, sub_name="clip.srt", **form):
    files = {"video": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(100), "video/mp4")}
    if subtitles is not None:
        files["subtitles"] = (sub_name, subtitles, "text/plain")
    return client.post("/predict", files=files, data={k: str(v) for k, v in form.items()})


# ---- bytes: limits hold while the body streams in, with or without Content-Length ----


def _part_head(field: str, filename: str | None) -> bytes:
    disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()


def _chunked_upload(app, parts: list[tuple[bytes, int]], uploads: Path, chunk: int = 256 * 1024):
    """Drive the ASGI app with a chunked body (no Content-Length): each part is its head, then `size` zero
    bytes. Returns (status, detail, bytes the app read, most bytes seen under `uploads` while it read)."""

    def pieces():
        for head, size in parts:
            yield head
            for _ in range(size // chunk):
                yield bytes(chunk)
            yield b"\r\n"
        yield f"--{BOUNDARY}--\r\n".encode()

    stream, sent, read, peak = pieces(), [], [0], [0]

    async def receive():
        peak[0] = max(peak[0], sum(f.stat().st_size for f in uploads.rglob("*") if f.is_file()))
        piece = next(stream, None)
        if piece is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read[0] += len(piece)
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"transfer-encoding", b"chunked"),
        ],
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)["detail"], read[0], peak[0]


def test_a_chunked_upload_over_the_limit_is_cut_off_while_it_streams(tmp_path):
    uploads = tmp_path / "uploads"
    app = create_app(FakeRecognizer(), upload_dir=uploads, max_upload_mb=1.0, max_subtitle_mb=0.5)
    status, detail, read, peak = _chunked_upload(app, [(_part_head("video", "big.mp4"), 200 * MB)], uploads)
    assert status == 413 and detail == "big.mp4: upload too large; the limit is 1 MB"
    assert read < 1.5 * MB and peak <= 1 * MB  # not 200 MB: the limit plus one chunk at most
    status, detail, read, peak = _chunked_upload(
        app, [(_part_head("video", "a.mp4"), MB // 2), (_part_head("subtitles", "big.srt"), 50 * MB)], uploads
    )
    assert status == 413 and detail == "big.srt: subtitles larger than 0.5 MB"
    assert read < 1.5 * MB and peak <= 1 * MB
    # bytes in a field nobody stores still count: the whole body is cut off past video + subtitles limits
    status, detail, read, peak = _chunked_upload(app, [(_part_head("junk", None), 50 * MB)], uploads)
    assert status == 413 and "limit is 1.5 MB" in detail
    assert read < 2 * MB and peak == 0
    assert list(uploads.iterdir()) == []


def test_declared_length_over_the_limit_is_refused_before_reading(tmp_path):
    client = _client(FakeRecognizer(), tmp_path, max_upload_mb=0.1, max_subtitle_mb=0.1)
    multipart = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    r = client.post("/predict", content=bytes(MB), headers=multipart)
    assert r.status_code == 413 and r.json()["detail"] == "upload too large (1.0 MB); the limit is 0.2 MB"
    form = {"content-type": "application/x-www-form-urlencoded"}
    r = client.post("/predict", content=b"video=clip.mp4", headers=form)
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"]


# ---- segments: capped per request and per second of video ----


def test_too_many_cues_are_refused_before_any_model_work(tmp_path):
    rec = FakeRecognizer(duration=3.0)
    client = _client(rec, tmp_path)
    r = _post(client, _srt(3000, 3.0))
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "clip.srt: 3000 segments in a 3.0 s video; the limit is 12 (4 per second of video, at most 1000)"
    )
    assert rec.calls == 0
    r = _post(client, _srt(12, 3.0))
    assert r.status_code == 200 and len(r.json()["segments"]) == 12
    long_clip = FakeRecognizer(duration=500.0)
    r = _post(_client(long_clip, tmp_path, max_segments=50), _srt(60, 500.0))
    assert r.status_code == 422 and "60 segments in a 500.0 s video; the limit is 50" in r.json()["detail"]
    r = _post(_client(rec, tmp_path, max_segments_per_s=1.0), window=0.5)
    assert r.status_code == 422 and r.json()["detail"].startswith("window 0.5 s: 6 segments in a 3.0 s video")
    assert rec.calls == 1


def test_subtitle_errors_and_encodings_reach_the_client_by_name(tmp_path):
    client = _client(FakeRecognizer(), tmp_path)
    r = _post(client, "\ufeff1\r\n00:00:00,500 --> 00:00:01,000\r\ncaf\u00e9\r\n".encode("utf-16"))
    assert r.status_code == 200 and r.json()["segments"][0]["text"] == "caf\u00e9"
    r = _post(client, b"PK\x03\x04" + bytes(100), sub_name="subs.srt")
    assert r.status_code == 422 and r.json()["detail"].startswith("subs.srt: not a text file: binary content (a ZIP")


# ---- the model: a long prediction cannot make others wait for ever ----


def test_a_request_that_cannot_get_the_model_in_time_gets_503_with_retry_after(tmp_path):
    rec = FakeRecognizer(sleep=1.5)
    client = _client(rec, tmp_path, queue_timeout_s=0.3)
    first = {}
    worker = threading.Thread(target=lambda: first.setdefault("r", _post(client)))
    worker.start()
    assert rec.started.wait(10)
    t0 = time.perf_counter()
    r = _post(client)
    waited = time.perf_counter() - t0
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["detail"] == "busy: the model did not come free within 0.3 s; retry in 1 s"
    assert 0.25 < waited < 1.4  # gave up at the timeout, not when the first prediction ended
    assert client.get("/health").status_code == 200  # the service still answers meanwhile
    worker.join(10)
    assert first["r"].status_code == 200 and rec.calls == 1
    assert _post(client).status_code == 200 and rec.calls == 2


def test_a_full_queue_turns_newcomers_away_at_once(tmp_path):
    rec = FakeRecognizer(sleep=1.0)
    client = _client(rec, tmp_path, queue_timeout_s=30, max_queue=0)
    worker = threading.Thread(target=lambda: _post(client))
    worker.start()
    assert rec.started.wait(10)
    t0 = time.perf_counter()
    r = _post(client)
    assert r.status_code == 503 and "0 requests already wait" in r.json()["detail"]
    assert time.perf_counter() - t0 < 0.8 and r.headers["retry-after"] == "30"
    worker.join(10)


# ---- no response shows where the server keeps uploads ----


@pytest.mark.parametrize("bad_media", [False, True])
def test_no_server_path_in_any_response(tmp_path, bad_media):
    client = _client(FakeRecognizer(bad_media=bad_media), tmp_path)
    uploads = str(tmp_path / "uploads")
    r = _post(client, _srt(2, 3.0), sub_name="my clip.srt")
    assert uploads not in r.text and "subs-" not in r.text and os.sep + "tmp" not in r.text
    if bad_media:
        assert r.status_code == 415 and r.json()["detail"] == "clip.mp4: not a readable video (cannot open clip.mp4)"
        return
    body = r.json()
    assert r.status_code == 200 and body["path"] == body["file"] == "clip.mp4"
    assert body["warnings"] == ["my clip.srt: no cue falls inside the video", "frames unavailable: clip.mp4: bad"]
    bad = _post(client, b"1\n00:00:02,000 --> 00:00:01,000\nx\n", sub_name="b.srt")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("b.srt:2: cue ends") and uploads not in bad.text


def test_serve_command_passes_every_limit(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from emorec.cli import app as cli
    from emorec.inference.recognizer import Recognizer
    from emorec.serve.app import Limits

    served = {}
    monkeypatch.setattr(Recognizer, "load", classmethod(lambda cls, path, **kw: FakeRecognizer()))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    res = CliRunner().invoke(
        cli,
        [
            "serve",
            "--model",
            str(tmp_path),
            "--port",
            "8123",
            "--max-upload-mb",
            "10",
            "--max-duration",
            "60",
            "--max-subtitle-mb",
            "1",
            "--max-segments",
            "99",
            "--max-segments-per-second",
            "2",
            "--queue-timeout",
            "5",
            "--max-queue",
            "3",
        ],
    )
    assert res.exit_code == 0, res.output
    assert served["port"] == 8123
    assert served["app"].state.limits == Limits(10.0, 60.0, 1.0, 99, 2.0, 5.0, 3)
