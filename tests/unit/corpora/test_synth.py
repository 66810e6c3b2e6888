"""Synthetic IEMOCAP: layout and formats, media, determinism, per-modality signal, and read-back by the reader."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from emorec.corpora.synth import SynthConfig, generate_iemocap
from emorec.corpora.synth.iemocap import (
    CATEGORY_NAMES,
    LABEL_CODES,
    REAL_COUNTS,
    plan_corpus,
    render_dialog,
    summary,
)

# dialog_mood=0: labels independent of the dialog, so a crop cannot predict them from who/where it is
CONFIG = SynthConfig(
    seed=7, sessions=5, dialogs_per_session=1, utterances_per_dialog=24, frame_size=(96, 64), dialog_mood=0.0
)
HEAD = re.compile(
    r"^\[(\d+\.\d{4}) - (\d+\.\d{4})\]\t(Ses0\d[FM]_\w+_([FM])\d{3})\t(\w{3})\t"
    r"\[\d\.\d{4}, \d\.\d{4}, \d\.\d{4}\]$"
)
CAT_LINE = re.compile(r"^C-(E\d|[FM]1):\t(([A-Z][a-z]+( state)?; )*[A-Z][a-z]+( state)?;|;)\t\([a-z, ]*\)$")
ATTR_LINE = re.compile(r"^A-(E\d|[FM]1):\tval [1-5]; act [1-5]; dom  [1-5];\t\([a-z, ]*\)$")
TRANS_LINE = re.compile(r"^(Ses0\d[FM]_\w+_[FM]\d{3}) \[(\d{3}\.\d{4})-(\d{3}\.\d{4})\]: \S.*$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return generate_iemocap(tmp_path_factory.mktemp("synth"), CONFIG, progress=False)


@pytest.fixture(scope="module")
def truth(corpus) -> list[dict]:
    with open(corpus / "synth_truth.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _text_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.suffix in {".txt", ".csv", ".json", ".anvil"}
    }


def _dialogs(root: Path) -> list[str]:
    return sorted(p.stem for p in root.glob("Session*/dialog/EmoEvaluation/*.txt"))


# ------------------------------------------------------------------------------------------------ layout


def test_tree_layout(corpus, truth):
    dialogs = _dialogs(corpus)
    assert len(dialogs) == 5 and {d[5] for d in dialogs} == {"F", "M"}  # both genders lead dialogs
    for d in dialogs:
        assert re.fullmatch(r"Ses0[1-5][FM]_(impro0[1-8]|script0[1-3]_[1-3])", d)
        s = corpus / f"Session{int(d[4])}"
        for rel in (
            f"dialog/avi/DivX/{d}.avi",
            f"dialog/wav/{d}.wav",
            f"dialog/EmoEvaluation/{d}.txt",
            f"dialog/transcriptions/{d}.txt",
        ):
            assert (s / rel).is_file(), rel
        assert (s / "dialog" / "lab").is_dir()
        for sub in ("Categorical", "Attribute"):
            assert list((s / "dialog" / "EmoEvaluation" / sub).glob(f"{d}_e*_*.txt")), sub
        utts = [r["utt_id"] for r in truth if r["dialog"] == d]
        wavs = sorted(p.stem for p in (s / "sentences" / "wav" / d).glob("*.wav"))
        assert wavs == sorted(utts) and len(utts) == CONFIG.utterances_per_dialog
    assert any((corpus / f"Session{i}/dialog/EmoEvaluation/Self-evaluation").is_dir() for i in range(1, 6))


def test_emo_evaluation_format(corpus, truth):
    by_id = {r["utt_id"]: r for r in truth}
    for path in corpus.glob("Session*/dialog/EmoEvaluation/*.txt"):
        raw = path.read_bytes()
        crlf = b"\r\n" in raw
        assert crlf == (int(path.parent.parent.parent.name[-1]) % 2 == 1)  # odd sessions use CRLF
        lines = raw.decode().replace("\r\n", "\n").split("\n")
        assert lines[0] == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]" and lines[1] == ""
        blocks = [b.split("\n") for b in "\n".join(lines[2:]).strip("\n").split("\n\n")]
        genders = []
        for block in blocks:
            m = HEAD.match(block[0])
            assert m, block[0]
            utt, code, gender = m.group(3), m.group(5), m.group(4)
            assert code in LABEL_CODES and by_id[utt]["label"] == code
            assert f"{float(m.group(1)):.4f}" == by_id[utt]["start"]
            genders.append(gender)
            cats = [ln for ln in block[1:] if ln.startswith("C-")]
            attrs = [ln for ln in block[1:] if ln.startswith("A-")]
            assert len(cats) + len(attrs) == len(block) - 1 and len(cats) >= 3 and len(attrs) >= 2
            for ln in cats:
                assert CAT_LINE.match(ln), ln
            for ln in attrs:
                assert ATTR_LINE.match(ln), ln
            for ln in cats:
                assert ln.startswith("C-E") or ln.startswith(f"C-{gender}1"), ln  # self-evaluation
            votes = Counter(
                c.strip() for ln in cats if ln.startswith("C-E") for c in ln.split("\t")[1].split(";") if c.strip()
            )
            top = votes.most_common()
            if code == "xxx":  # evaluators disagree
                assert top[0][1] == 1
            else:
                assert top[0][0] == CATEGORY_NAMES[code] and (len(top) == 1 or top[1][1] < top[0][1])
        assert genders == sorted(genders)  # all F turns, then all M turns
        numbers = [b[0].split("\t")[1] for b in blocks]
        for g in "FM":
            own = [n for n in numbers if n.split("_")[-1][0] == g]
            assert own == [f"{path.stem}_{g}{i:03d}" for i in range(len(own))]


def test_transcriptions_time_ordered_and_interleaved(corpus, truth):
    texts = {r["utt_id"]: r["text"] for r in truth}
    for path in corpus.glob("Session*/dialog/transcriptions/*.txt"):
        lines = path.read_text().splitlines()
        parsed = [TRANS_LINE.match(ln) for ln in lines]
        assert all(parsed), lines
        starts = [float(m.group(2)) for m in parsed]
        assert starts == sorted(starts)
        speakers = [m.group(1).split("_")[-1][0] for m in parsed]
        assert speakers != sorted(speakers)  # F and M interleave in time order
        for m, ln in zip(parsed, lines):
            assert ln.split(": ", 1)[1] == texts[m.group(1)]
            start, end = float(m.group(2)), float(m.group(3))
            assert 0.5 <= end - start <= 25.0


def test_same_seed_same_files_other_seed_differs(corpus, tmp_path):
    again = generate_iemocap(tmp_path / "a", SynthConfig(**{**CONFIG.__dict__, "media": False}), progress=False)
    a, b = _text_files(again), _text_files(corpus)
    info_a, info_b = (json.loads(x.pop("synth_info.json")) for x in (a, b))
    assert a == b  # byte-identical label, transcript and truth files
    assert info_a["config"].pop("media") is False and info_b["config"].pop("media") is True
    assert info_a == info_b
    other = generate_iemocap(
        tmp_path / "b", SynthConfig(**{**CONFIG.__dict__, "media": False, "seed": 8}), progress=False
    )
    assert _text_files(other) != _text_files(corpus)


def test_media_deterministic(corpus, tmp_path):
    actors, dialogs = plan_corpus(CONFIG)
    plan = dialogs[0]
    render_dialog(tmp_path, plan, actors, CONFIG)
    rel_wav = f"Session1/dialog/wav/{plan.name}.wav"
    assert (tmp_path / rel_wav).read_bytes() == (corpus / rel_wav).read_bytes()
    rel_avi = f"Session1/dialog/avi/DivX/{plan.name}.avi"

    def frames(p: Path) -> str:
        h = hashlib.sha256()
        with av.open(str(p)) as c:
            for f in c.decode(video=0):
                h.update(f.to_ndarray(format="rgb24").tobytes())
        return h.hexdigest()

    assert frames(tmp_path / rel_avi) == frames(corpus / rel_avi)


# ------------------------------------------------------------------------------------------------ media


def test_video_stream(corpus, truth):
    for d in _dialogs(corpus):
        with av.open(str(corpus / f"Session{int(d[4])}/dialog/avi/DivX/{d}.avi")) as c:
            v = c.streams.video[0]
            assert v.average_rate == 30 and (v.width, v.height) == CONFIG.frame_size
            assert v.codec_context.name == "mpeg4"
            n = sum(1 for _ in c.decode(video=0))
        last_end = max(float(r["end"]) for r in truth if r["dialog"] == d)
        assert n >= int(np.ceil(last_end * 30))


def test_keyframe_interval_is_what_the_config_asks(tmp_path):
    root = generate_iemocap(
        tmp_path,
        SynthConfig(seed=3, sessions=1, dialogs_per_session=1, utterances_per_dialog=3, keyframe_interval=45),
        progress=False,
    )
    (avi,) = root.glob("Session1/dialog/avi/DivX/*.avi")
    with av.open(str(avi)) as c:
        keys = [i for i, f in enumerate(c.decode(video=0)) if f.key_frame]
    assert len(keys) >= 2 and set(np.diff(keys)) == {45}
    with pytest.raises(ValueError, match="keyframe_interval"):
        SynthConfig(keyframe_interval=0)


def test_wavs_match_windows(corpus, truth):
    rows = {d: [r for r in truth if r["dialog"] == d] for d in _dialogs(corpus)}
    for d, rs in rows.items():
        s = int(d[4])
        info = sf.info(corpus / f"Session{s}/dialog/wav/{d}.wav")
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.duration >= max(float(r["end"]) for r in rs)
        for r in rs:
            x, sr = sf.read(corpus / f"Session{s}/sentences/wav/{d}/{r['utt_id']}.wav", dtype="float32")
            assert sr == 16000 and x.ndim == 1
            assert abs(len(x) - (float(r["end"]) - float(r["start"])) * sr) <= 1
            assert np.sqrt(np.mean(x**2)) > 0.004  # speech, not just the noise floor


def _middle_crops(corpus: Path, truth: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Grey face-region crops of the middle frame, speaker's side and other side, in `_dialogs` order."""
    spk, oth = [], []
    for d in _dialogs(corpus):
        rs = {int(r["mid_frame"]): r for r in truth if r["dialog"] == d}
        got = {}
        with av.open(str(corpus / f"Session{int(d[4])}/dialog/avi/DivX/{d}.avi")) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i in rs:
                    got[rs[i]["utt_id"]] = f.to_ndarray(format="rgb24")
        for r in truth:
            if r["dialog"] != d:
                continue
            img = got[r["utt_id"]]
            h, half = img.shape[0], img.shape[1] // 2
            left, right = img[:, :half], img[:, half:]
            crops = []
            for x in (left, right) if r["side"] == "left" else (right, left):
                face = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)[
                    int(0.3 * h) : int(0.8 * h), int(0.15 * half) : int(0.85 * half)
                ]
                crops.append(cv2.resize(face, (16, 16), interpolation=cv2.INTER_AREA).ravel() / 255.0)
            spk.append(crops[0])
            oth.append(crops[1])
    return np.array(spk), np.array(oth)


def _cv_accuracy(X: np.ndarray, y: np.ndarray, C: float = 0.5) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    return float(cross_val_score(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean())


def _majority(y: np.ndarray) -> float:
    return max(Counter(y.tolist()).values()) / len(y)


def test_speaker_side_shows_the_expression_other_side_does_not(corpus, truth):
    by_id = {r["utt_id"]: r for r in truth}
    order = [r["utt_id"] for d in _dialogs(corpus) for r in truth if r["dialog"] == d]
    spk, oth = _middle_crops(corpus, truth)
    group4 = {"neu": "neu", "hap": "hap", "exc": "hap", "sad": "sad", "ang": "ang"}
    expr = np.array([group4.get(by_id[u]["face_expr"], "") for u in order])
    other_expr = np.array([group4.get(by_id[u]["other_actor_expr"], "") for u in order])
    shown, other_shown = expr != "", other_expr != ""
    # the speaker's crop shows the expressed face; the listener's crop does not predict it ...
    acc_spk, acc_oth = _cv_accuracy(spk[shown], expr[shown]), _cv_accuracy(oth[shown], expr[shown])
    chance = _majority(expr[shown])
    assert acc_spk > chance + 0.3, (acc_spk, chance)
    assert acc_oth < chance + 0.12, (acc_oth, chance)
    # ... but shows the listener's own expression (so the truth file's other_actor_expr is right)
    acc_own = _cv_accuracy(oth[other_shown], other_expr[other_shown])
    assert acc_own > _majority(other_expr[other_shown]) + 0.2, acc_own
    # on the true 4-class label (each modality may show another emotion) the speaker side still wins
    four = np.array([bool(by_id[u]["label4"]) for u in order])
    y4 = np.array([by_id[u]["label4"] for u in order])[four]
    acc4_spk, acc4_oth = _cv_accuracy(spk[four], y4), _cv_accuracy(oth[four], y4)
    assert acc4_spk > max(_majority(y4), acc4_oth) + 0.08, (acc4_spk, acc4_oth, _majority(y4))


def test_voice_carries_the_expressed_emotion(corpus, truth):
    import librosa

    group = {"neu": "neu", "hap": "hap", "exc": "hap", "sad": "sad", "ang": "ang"}
    rows = [r for r in truth if r["voice_expr"] in group]
    feats = []
    for r in rows:
        x, sr = sf.read(
            corpus / f"Session{r['session']}/sentences/wav/{r['dialog']}/{r['utt_id']}.wav", dtype="float32"
        )
        m = librosa.feature.mfcc(y=x, sr=sr, n_mfcc=20)
        feats.append(np.concatenate([m.mean(1), m.std(1)]))
    y = np.array([group[r["voice_expr"]] for r in rows])
    acc = _cv_accuracy(np.array(feats), y, C=1.0)
    assert acc > _majority(y) + 0.25, (acc, _majority(y))


def test_text_probe_is_informative_but_imperfect(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    _, dialogs = plan_corpus(SynthConfig(seed=3, dialogs_per_session=8, utterances_per_dialog=30, media=False))
    rows = [
        (p.session, u.label, u.text)
        for p in dialogs
        for u in p.utterances
        if u.label in ("neu", "hap", "exc", "sad", "ang")
    ]
    y = np.array(["hap" if lab == "exc" else lab for _, lab, _ in rows])
    sess = np.array([s for s, _, _ in rows])
    texts = [t for _, _, t in rows]
    vec = TfidfVectorizer(ngram_range=(1, 2)).fit([t for t, s in zip(texts, sess) if s < 5])
    X = vec.transform(texts)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X[sess < 5], y[sess < 5])
    acc = float(np.mean(model.predict(X[sess == 5]) == y[sess == 5]))
    assert 0.45 <= acc <= 0.85, acc
    assert any("[LAUGHTER]" in t for t in texts)


# ------------------------------------------------------------------------------------------------ statistics


def test_label_and_timing_statistics_follow_the_real_corpus():
    _, dialogs = plan_corpus(SynthConfig.preset("full", seed=1, media=False))
    utts = [u for p in dialogs for u in p.utterances]
    assert 8000 <= len(utts) <= 12000
    real = np.array(REAL_COUNTS["impro"]) + np.array(REAL_COUNTS["script"])
    real = real / real.sum()
    got = Counter(u.label for u in utts)
    for code, p in zip(LABEL_CODES, real):
        assert abs(got[code] / len(utts) - p) < 0.04, (code, got[code] / len(utts), p)
    improvised = sum(len(p.utterances) for p in dialogs if not p.scripted) / len(utts)
    assert 0.4 <= improvised <= 0.56
    durations = np.array([u.end - u.start for u in utts])
    assert 3.0 <= np.median(durations) <= 4.0 and durations.min() >= 0.8 - 1e-6 and durations.max() <= 20.0 + 1e-6
    overlaps = []
    for p in dialogs:
        us = sorted(p.utterances, key=lambda u: u.start)
        for a, b in zip(us, us[1:]):
            if b.gender != a.gender and b.start < a.end:
                overlaps.append(a.end - b.start)
            if b.gender == a.gender:
                assert b.start >= a.end  # a speaker never overlaps themself
    assert 0.45 <= np.median(overlaps) <= 0.75
    assert {p.lead for p in dialogs} == {"F", "M"}
    names = [p.name for p in dialogs]
    assert len(set(names)) == len(names) == 150


def test_scripted_dialogs_share_their_lines_across_sessions():
    _, dialogs = plan_corpus(SynthConfig(seed=2, dialogs_per_session=4, media=False))
    by_script: dict[str, list] = {}
    for p in dialogs:
        if p.scripted:
            by_script.setdefault(p.name.split("_script")[1], []).append(p)
    performed = [ps for ps in by_script.values() if len(ps) > 1]
    assert performed
    agree = []
    for ps in performed:
        texts = [[u.text for u in p.utterances] for p in ps]
        assert all(t == texts[0] for t in texts)  # the same lines, in the same order
        roles = [[u.gender == p.lead for u in p.utterances] for p in ps]
        assert all(r == roles[0] for r in roles)  # the same role speaks each line
        labels = [[u.label for u in p.utterances] for p in ps]
        agree += [a == b for other in labels[1:] for a, b in zip(labels[0], other)]
    assert 0.25 < np.mean(agree) < 0.9  # performances differ, but follow the script's emotions


def test_summary_and_cli(corpus, tmp_path):
    text = summary(corpus)
    assert f"{5 * CONFIG.utterances_per_dialog} utterances" in text and "by session" in text
    info = json.loads((corpus / "synth_info.json").read_text())
    assert info["config"]["seed"] == CONFIG.seed

    from emorec.cli import app

    result = CliRunner().invoke(
        app,
        [
            "synth",
            "iemocap",
            str(tmp_path),
            "--sessions",
            "1",
            "--dialogs-per-session",
            "1",
            "--utterances-per-dialog",
            "3",
            "--frame-size",
            "64x48",
            "--seed",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 utterances" in result.output
    assert (tmp_path / "IEMOCAP_full_release/Session1/dialog/avi/DivX").is_dir()
    bad = CliRunner().invoke(app, ["synth", "iemocap", str(tmp_path / "x"), "--frame-size", "100"])
    assert bad.exit_code != 0 and "WIDTHxHEIGHT" in bad.output
    # rewriting a synthetic corpus replaces it; a folder that is not one is never written into
    again = CliRunner().invoke(
        app,
        [
            "synth",
            "iemocap",
            str(tmp_path),
            "--sessions",
            "1",
            "--dialogs-per-session",
            "1",
            "--utterances-per-dialog",
            "2",
            "--no-media",
        ],
    )
    assert again.exit_code == 0 and not list(tmp_path.rglob("*.avi"))
    real = tmp_path / "real" / "IEMOCAP_full_release" / "Session1"
    real.mkdir(parents=True)
    refused = CliRunner().invoke(app, ["synth", "iemocap", str(tmp_path / "real"), "--no-media"])
    assert refused.exit_code == 1 and "not a synthetic corpus" in refused.output
    assert list((tmp_path / "real" / "IEMOCAP_full_release").iterdir()) == [real]


# ------------------------------------------------------------------------------------------------ read-back


def test_reader_reads_it_back_without_problems(corpus, truth):
    iemocap = pytest.importorskip("emorec.corpora.iemocap")
    data = iemocap.read(corpus)
    assert data.problems == []
    by_id = {r["utt_id"]: r for r in truth}
    assert sorted(u.utt_id for u in data.utterances) == sorted(by_id)
    for u in data.utterances:
        r = by_id[u.utt_id]
        assert (u.label, u.side, u.gender, u.text) == (r["label"], r["side"], r["gender"], r["text"])
        assert f"{u.start:.4f}" == r["start"] and f"{u.end:.4f}" == r["end"]
        assert u.session == int(r["session"]) and u.scripted == bool(int(r["scripted"]))
        assert Path(u.video_path).is_file() and Path(u.sentence_wav).is_file() and Path(u.audio_path).is_file()
