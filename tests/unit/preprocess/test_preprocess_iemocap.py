"""The preprocessing stage on a tiny synthetic IEMOCAP corpus: truth checks, resume after kill -9, damaged media."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

import emorec.preprocess.run as run_module
from emorec.corpora.corpora import read_corpus
from emorec.corpora.synth.iemocap import SynthConfig, generate_iemocap
from emorec.media.crops import crop_frame
from emorec.media.video import frame_window, pick_frames, probe
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.run import preprocess

DIALOGS = 3


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate_iemocap(
        out, SynthConfig(seed=7, sessions=1, dialogs_per_session=DIALOGS, utterances_per_dialog=5), progress=False
    )
    return out


def config(root, out, **kw) -> PreprocessConfig:
    fields = dict(
        corpus="iemocap",
        root=str(root),
        out=str(out),
        frame_size=48,
        spec_size=(32, 64),
        n_mels=32,
        max_audio_seconds=3.0,
        max_length=24,
    )
    fields.update(kw)
    return PreprocessConfig(**fields)


def truth(root: Path) -> dict[str, dict]:
    with open(root / "IEMOCAP_full_release" / "synth_truth.csv", newline="") as f:
        return {r["utt_id"]: r for r in csv.DictReader(f)}


def decode_all(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_store_agrees_with_the_synthetic_truth(corpus, tmp_path):
    fs = preprocess(config(corpus, tmp_path), progress=False)
    m = fs.manifest
    utts = read_corpus("iemocap", str(corpus)).utterances
    assert m["utt_id"].tolist() == [u.utt_id for u in utts] and len(m) == DIALOGS * 5
    assert (m["status"] == "ok").all(), m["status"].value_counts()
    t = truth(corpus)
    assert m["side"].tolist() == [t[u]["side"] for u in m["utt_id"]]
    frames = fs.array("frames")
    videos = {}
    for i, u in enumerate(utts):
        info = probe(u.video_path)
        a, b = frame_window(u.start, u.end, info.fps, info.n_frames)
        (mid,) = pick_frames(a, b, 1, info.n_frames - 1)
        assert m.loc[i, "frame_indices"] == str(mid)
        assert abs(mid - int(t[u.utt_id]["mid_frame"])) <= 1  # the truth rounds the mid time instead
        full = videos.setdefault(u.video_path, decode_all(u.video_path))[mid]
        mine = frames[i, 0].astype(int)
        speaker = crop_frame(full, "speaker", t[u.utt_id]["side"], 48)[0].astype(int)
        other = crop_frame(full, "speaker", "left" if t[u.utt_id]["side"] == "right" else "right", 48)[0].astype(int)
        assert np.abs(mine - speaker).mean() < 4 < np.abs(mine - other).mean(), u.utt_id
    spec = np.asarray(fs.array("spec"), np.float32)
    assert np.isfinite(spec).all() and spec[:, 0].std() > 1
    assert fs.array("attention_mask").sum(axis=1).min() >= 3


SLOW_RUN = """
import sys, time
import emorec.preprocess.run as run
inner = run.process_unit
def slow(task, **kw):
    result = inner(task, **kw)
    time.sleep(2.0)
    return result
run.process_unit = slow
from emorec.cli import app
app(["preprocess", "--config", sys.argv[1], "--quiet"])
"""


def _preprocess_counting_units(cfg):
    """preprocess(cfg), and the keys of the work units it processed."""
    processed = []
    inner = run_module.process_unit

    def counting(task, **kw):
        processed.append(task.key)
        return inner(task, **kw)

    run_module.process_unit = counting
    try:
        return preprocess(cfg, progress=False), processed
    finally:
        run_module.process_unit = inner


def test_resume_after_kill_redoes_only_unfinished_dialogs(corpus, tmp_path):
    cfg = config(corpus, tmp_path / "stores")
    cfg_file = tmp_path / "pre.yaml"
    cfg_file.write_text(yaml.safe_dump({"preprocess": cfg.model_dump(mode="json")}))
    shards = cfg.store_dir() / "shards"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(cfg_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(shards.glob("*.npz")):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    done = sorted(p.stem for p in shards.glob("*.npz"))
    assert 1 <= len(done) < DIALOGS and not (cfg.store_dir() / "complete").exists()
    (shards / ".junk.npz.tmp-1").write_bytes(b"half a shard")  # what a kill during a write leaves
    todo = sorted({u.dialog for u in read_corpus("iemocap", str(corpus)).utterances} - set(done))
    (shards / f"{todo[0]}.npz").write_bytes(b"PK\x03\x04 damaged")  # an unreadable shard is redone, not trusted

    fs, processed = _preprocess_counting_units(cfg)
    assert sorted(processed) == sorted(set(fs.manifest["dialog"]) - set(done))
    assert fs.summary["run"]["units_now"] == DIALOGS - len(done)
    assert (fs.manifest["status"] == "ok").all() and (fs.path / "complete").is_file()
    assert not (fs.path / "shards").exists()

    # a clean run in a spawn pool of 2 workers (media only: workers then skip loading the tokenizer)
    reference = preprocess(
        config(corpus, tmp_path / "reference", modalities=["frame", "audio"]), workers=2, progress=False
    )
    assert reference.summary["run"]["workers"] == 2
    for name in ("frames", "spec"):
        assert np.array_equal(np.asarray(fs.array(name)), np.asarray(reference.array(name))), name
    for col in ("utt_id", "frame_indices", "audio_seconds", "status_frame", "status_audio"):
        assert fs.manifest[col].tolist() == reference.manifest[col].tolist(), col
    ids = fs.array("input_ids")
    assert (ids[:, 0] == 101).all() and fs.array("attention_mask").sum(axis=1).min() >= 3


def test_units_are_redone_when_their_arrays_are_gone(corpus, tmp_path):
    cfg = config(corpus, tmp_path / "stores", modalities=["frame", "audio"])
    inner = run_module.process_unit
    calls = []

    def one_then_stop(task, **kw):
        if calls:
            raise KeyboardInterrupt
        calls.append(task.key)
        return inner(task, **kw)

    run_module.process_unit = one_then_stop
    try:
        with pytest.raises(KeyboardInterrupt):
            preprocess(cfg, progress=False)
    finally:
        run_module.process_unit = inner
    store = cfg.store_dir()
    assert len(list((store / "shards").glob("*.npz"))) == 1
    (store / "frames.npy.tmp").unlink()  # the shard's rows are gone with it: the shard must not be trusted
    fs, processed = _preprocess_counting_units(cfg)
    assert len(processed) == DIALOGS
    fresh = preprocess(config(corpus, tmp_path / "fresh", modalities=["frame", "audio"]), progress=False)
    for name in ("frames", "spec"):
        assert np.array_equal(np.asarray(fs.array(name)), np.asarray(fresh.array(name))), name


def _edit_window(eval_file: Path, utt_id: str, start: float, end: float) -> None:
    text = eval_file.read_text()
    text, n = re.subn(rf"\[[0-9.]+ - [0-9.]+\](\s+{utt_id}\s)", rf"[{start:.4f} - {end:.4f}]\1", text)
    assert n == 1
    eval_file.write_text(text)


def test_damaged_corpus_gives_counted_reasons(corpus, tmp_path, capsys):
    root = tmp_path / "damaged"
    shutil.copytree(corpus, root)
    utts = read_corpus("iemocap", str(root)).utterances
    dialogs = sorted({u.dialog for u in utts})
    by_dialog = {d: [u for u in utts if u.dialog == d] for d in dialogs}
    a, b, c = dialogs
    # a: truncated video; b: dialog wav deleted; c: one window past the end, one of zero length, one sentence wav gone
    video_a = Path(by_dialog[a][0].video_path)
    data = video_a.read_bytes()
    video_a.write_bytes(data[: int(len(data) * 0.55)])
    Path(by_dialog[b][0].audio_path).unlink()
    session = video_a.parents[3]
    _edit_window(session / "dialog" / "EmoEvaluation" / f"{c}.txt", by_dialog[c][0].utt_id, 900.0, 905.0)
    _edit_window(session / "dialog" / "EmoEvaluation" / f"{c}.txt", by_dialog[c][1].utt_id, 10.0, 10.0)
    Path(by_dialog[c][2].sentence_wav).unlink()

    info = probe(video_a)
    decodable = len(decode_all(video_a))
    picks = [
        pick_frames(*frame_window(u.start, u.end, info.fps, info.n_frames), 1, info.n_frames - 1)[0]
        for u in by_dialog[a]
    ]
    truncated = sum(p >= decodable for p in picks)
    assert 0 < truncated < len(picks)

    fs = preprocess(config(root, tmp_path / "stores", audio_source="dialog"), progress=True)
    s = fs.summary
    assert s["failures"]["frame"] == {
        "truncated video": truncated,
        "window past end of video": 1,
        "zero-length window": 1,
    }
    assert s["failures"]["audio"] == {"missing audio": 5, "window past end of audio": 1, "zero-length window": 1}
    assert s["failures"]["text"] == {}
    m = fs.manifest.set_index("utt_id")
    assert m.loc[by_dialog[c][0].utt_id, "status"] == "window past end of video"
    assert (fs.array("frames")[~fs.ok("frame")] == 0).all() and (fs.array("spec")[~fs.ok("audio")] == 0).all()
    err = capsys.readouterr().err
    for path in (video_a, by_dialog[b][0].audio_path, by_dialog[c][0].video_path, by_dialog[c][0].audio_path):
        assert sum(line.startswith(f"warning: {path}:") for line in err.splitlines()) == 1, path
    assert len(s["warnings"]) == 4

    fs = preprocess(config(root, tmp_path / "stores", audio_source="sentence"), progress=False)
    s = fs.summary
    assert s["failures"]["audio"] == {}  # sentence wavs are whole clips; the missing one is cut from the dialog wav
    assert s["notes"] == {"sentence wav missing: cut from the dialog audio": 1}


def test_a_crashing_frame_step_costs_its_unit_frames_only(corpus, tmp_path, monkeypatch):
    import emorec.preprocess.unit as unit_module

    dialogs = sorted({u.dialog for u in read_corpus("iemocap", str(corpus)).utterances})
    inner = unit_module._frames

    def crash_on_first(task, *args):  # decoded ahead of its unit, in the video thread
        if task.key == dialogs[0]:
            raise RuntimeError("decoder exploded")
        return inner(task, *args)

    monkeypatch.setattr(unit_module, "_frames", crash_on_first)
    fs = preprocess(config(corpus, tmp_path / "stores"), progress=False)
    m = fs.manifest
    crashed = (m["dialog"] == dialogs[0]).to_numpy()
    assert (m.loc[crashed, "status_frame"] == "failed: RuntimeError").all()
    assert (m.loc[~crashed, "status_frame"] == "ok").all() and (m["status_audio"] == "ok").all()
    assert (fs.array("frames")[crashed] == 0).all() and (fs.array("frames")[~crashed] > 0).any()
    assert any("decoder exploded" in w for w in fs.summary["warnings"])


def test_command_runs_the_stage_and_draws_a_contact_sheet(corpus, tmp_path):
    from typer.testing import CliRunner

    from emorec.cli import app

    cfg = config(corpus, tmp_path / "stores")
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "corpus": {"name": "iemocap", "root": str(corpus)},
                "store_dir": str(tmp_path / "stores"),
                "preprocess": {
                    k: v for k, v in cfg.model_dump(mode="json").items() if k not in ("corpus", "root", "out")
                },
            }
        )
    )
    runner = CliRunner()
    res = runner.invoke(app, ["preprocess", "--config", str(experiment), "--limit", "4", "--quiet"])
    assert res.exit_code == 0, res.output
    store = cfg.store_dir(limit=4)
    assert f"store: {store}" in res.output and "4 utterances, 4 ok in every modality" in res.output
    again = runner.invoke(app, ["preprocess", "--config", str(experiment), "--limit", "4"])
    assert again.exit_code == 0 and "already complete" in again.output
    png = tmp_path / "sheet.png"
    res = runner.invoke(app, ["preprocess", "show", str(store), "--n", "4", "--out", str(png)])
    assert res.exit_code == 0, res.output
    import matplotlib.image

    img = matplotlib.image.imread(str(png))
    assert img.shape[0] > 200 and img.shape[1] > 400 and img[..., :3].std() > 0.05
    bad = runner.invoke(app, ["preprocess", "show", str(tmp_path)])
    assert bad.exit_code != 0 and "not a complete feature store" in bad.output
    missing = tmp_path / "none.yaml"
    res = runner.invoke(app, ["preprocess", "--config", str(missing)])
    assert res.exit_code != 0 and "none.yaml" in res.output
