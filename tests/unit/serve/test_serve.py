"""The web service through FastAPI's test client: prediction, the page, limits and bad uploads (never a 500)."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emorec.inference import Recognizer, build_untrained_bundle
from emorec.serve import create_app
from support.paths import REPO

DATA = REPO.parent / "shared" / "data"
CLASSES = ["neutral", "happy", "sad", "angry"]


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    b = build_untrained_bundle(
        tmp_path_factory.mktemp("b") / "bundle",
        CLASSES,
        {"frame_size": 48, "spec_size": [64, 96], "max_length": 24},
        frame="small_cnn",
        audio="audio_cnn",
        text="text",
    )
    return Recognizer.load(b)


@pytest.fixture(scope="module")
def clip():
    clips = sorted((DATA / "ravdess_av").glob("*.mp4"))
    if not clips:
        pytest.skip(f"no RAVDESS clips under {DATA / 'ravdess_av'}")
    return clips[0]


@pytest.fixture()
def uploads(tmp_path):
    return tmp_path / "uploads"


@pytest.fixture()
def client(rec, uploads):
    return TestClient(create_app(rec, upload_dir=uploads), raise_server_exceptions=False)


def _post(client, path: Path, name=None, subtitles=None, **form):
    files = {"video": (name or path.name, path.read_bytes(), "video/mp4")}
    if subtitles is not None:
        files["subtitles"] = (subtitles.name, subtitles.read_bytes(), "text/plain")
    r = client.post("/predict", files=files, data={k: str(v) for k, v in form.items()})
    assert str(client.app.state.upload_root) not in r.text  # never a server path, error or not
    return r


def test_health_page_and_docs(client):
    h = client.get("/health")
    assert h.status_code == 200
    assert h.json() == {
        "status": "ok",
        "classes": CLASSES,
        "models": ["frame", "audio", "text", "fusion", "audio_text"],
        "max_upload_mb": 200.0,
        "max_duration_s": 600.0,
    }
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'id="video"' in html and 'id="timeline"' in html and 'id="segments"' in html
    assert "http://" not in html and "https://" not in html and "<link" not in html  # no external assets
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/predict" in spec["paths"] and "/health" in spec["paths"]


def test_predict_real_clips(client, clip, uploads):
    for path in (clip, DATA / "cremad" / "1001_DFA_ANG_XX.flv"):
        r = _post(client, path)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["file"] == body["path"] == path.name and body["classes"] == CLASSES
        asr = importlib.util.find_spec("faster_whisper") is not None  # the words come from speech recognition
        assert body["segmentation"].startswith("asr" if asr else "speech") and len(body["segments"]) >= 1
        for s in body["segments"]:
            assert s["label"] in CLASSES and s["modalities"] == (
                ["frame", "audio", "text"] if asr else ["frame", "audio"]
            )
            assert abs(sum(s["probs"].values()) - 1) < 1e-5
        png = base64.b64decode(body["timeline_png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert list(uploads.iterdir()) == []  # the upload is gone once the response is out


def test_predict_with_subtitles_and_options(client, clip, tmp_path, uploads):
    srt = tmp_path / "clip.srt"
    srt.write_text("1\n00:00:00,800 --> 00:00:02,400\n<i>Kids are talking by the door</i>\n")
    r = _post(client, clip, subtitles=srt, speaker_side="full")
    assert r.status_code == 200, r.text
    segs = r.json()["segments"]
    assert [(s["start"], s["end"], s["text"], s["side"]) for s in segs] == [
        (0.8, 2.4, "Kids are talking by the door", "full")
    ]
    assert segs[0]["modalities"] == ["frame", "audio", "text"]
    r = _post(client, clip, window=1)
    assert r.status_code == 200 and r.json()["segmentation"] == "window" and len(r.json()["segments"]) == 3
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:03,000 --> 00:00:01,000\nbackwards\n")
    r = _post(client, clip, subtitles=bad)
    assert r.status_code == 422 and r.json()["detail"].startswith("bad.srt:2: cue ends")
    r = _post(client, clip, speaker_side="middle")
    assert r.status_code == 422 and "speaker_side" in r.json()["detail"]
    r = _post(client, clip, window=0)
    assert r.status_code == 422 and "window" in r.json()["detail"]
    assert list(uploads.iterdir()) == []


def test_bad_uploads_get_4xx_with_reasons(client, clip, tmp_path, uploads):
    text = tmp_path / "notes.mp4"
    text.write_text("hello, I am not a video\n" * 40)
    r = _post(client, text)
    assert r.status_code == 415 and r.json()["detail"].startswith("notes.mp4: not a readable video")
    data = clip.read_bytes()
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(data[: len(data) // 3])
    r = _post(client, trunc)
    assert r.status_code == 415 and "truncated or corrupt" in r.json()["detail"]
    head = tmp_path / "head.mp4"
    head.write_bytes(data[:20000])  # cut inside the header
    r = _post(client, head)
    assert r.status_code == 415 and r.json()["detail"].startswith("head.mp4:")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert _post(client, empty).status_code == 415
    r = _post(client, clip, name="clip.txt")
    assert r.status_code == 415 and "unsupported file type" in r.json()["detail"]
    srt = tmp_path / "subs.docx"
    srt.write_text("x")
    r = _post(client, clip, subtitles=srt)
    assert r.status_code == 415 and "subs.docx" in r.json()["detail"]
    r = client.post("/predict", data={"speaker_side": "auto"})
    assert r.status_code == 422  # no file at all
    assert list(uploads.iterdir()) == []


def test_size_and_duration_limits(rec, clip, tmp_path):
    uploads = tmp_path / "up"
    small = TestClient(create_app(rec, max_upload_mb=1.0, upload_dir=uploads), raise_server_exceptions=False)
    r = _post(small, clip)  # ~4 MB > 1 MB
    assert r.status_code == 413 and "limit is 1 MB" in r.json()["detail"]
    # chunked uploads without Content-Length: tests/test_serve_limits.py
    short = TestClient(create_app(rec, max_duration_s=2.0, upload_dir=uploads), raise_server_exceptions=False)
    r = _post(short, clip)
    assert r.status_code == 422 and "3.1 s long; the limit is 2 s" in r.json()["detail"]
    assert list(uploads.iterdir()) == []


def test_serve_command_rejects_a_bad_bundle(tmp_path):
    from typer.testing import CliRunner

    from emorec.cli import app

    res = CliRunner().invoke(app, ["serve", "--model", str(tmp_path / "missing.emorec")])
    assert res.exit_code == 2 and "no such bundle" in res.output
