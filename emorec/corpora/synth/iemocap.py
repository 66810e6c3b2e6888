"""A synthetic corpus in the real IEMOCAP release layout: drawn two-actor video, speech-like audio, transcripts.

Every utterance has one true label. Each modality (face, voice, text) independently expresses that emotion or,
with probability `*_confusion`, a random emotion from another class, plus continuous noise; the per-utterance
ground truth is written to `IEMOCAP_full_release/synth_truth.csv` (corpus readers ignore it). The plan (who
says what, with which label and expression) is made in emorec.corpora.synth.plan; this module writes it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from emorec.corpora.synth import face, voice
from emorec.corpora.synth.plan import (  # noqa: F401  (re-exported: the corpus' vocabulary)
    ATTRIBUTE_COMMENTS,
    CATEGORY_NAMES,
    FOUR_CLASS,
    FPS,
    HEADER,
    LABEL_CODES,
    OTHER_COMMENTS,
    REAL_COUNTS,
    REAL_VAD,
    SAMPLE_RATE,
    Actor,
    DialogPlan,
    PlannedUtterance,
    SynthConfig,
    plan_corpus,
)


def _write(path: Path, lines: list[str], crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\r\n" if crlf else "\n") as f:
        f.write("\n".join(lines) + "\n")


def _f_then_m(plan: DialogPlan) -> list[PlannedUtterance]:
    return [u for u in plan.utterances if u.gender == "F"] + [u for u in plan.utterances if u.gender == "M"]


def write_text_files(root: Path, plan: DialogPlan, cfg: SynthConfig) -> None:
    """EmoEvaluation (+ Categorical/Attribute/Self-evaluation), transcriptions and the empty lab/ folder."""
    dialog_dir = root / f"Session{plan.session}" / "dialog"
    emo = dialog_dir / "EmoEvaluation"
    lines = [HEADER, ""]
    for u in _f_then_m(plan):
        v, a, d = u.vad
        lines.append(f"[{u.start:.4f} - {u.end:.4f}]\t{u.utt_id}\t{u.label}\t[{v:.4f}, {a:.4f}, {d:.4f}]")
        lines.extend(u.evaluator_lines)
        lines.append("")
    _write(emo / f"{plan.name}.txt", lines, crlf=cfg.crlf and plan.session % 2 == 1)

    by_eval: dict[str, list[str]] = {}
    by_attr: dict[str, list[str]] = {}
    for u in _f_then_m(plan):
        for i, cat in u.categorical.items():
            if i.startswith("C-E"):
                by_eval.setdefault(i[3:], []).append(f"{u.utt_id} :{cat}")
        for i, (v, a, d) in u.attributes.items():
            if i.startswith("A-E"):
                by_attr.setdefault(i[3:], []).append(f"{u.utt_id} :act {a}; val {v}; dom  {d}; ()")
    for k, rows in sorted(by_eval.items()):
        _write(emo / "Categorical" / f"{plan.name}_e{k}_cat.txt", rows)
    for k, rows in sorted(by_attr.items()):
        _write(emo / "Attribute" / f"{plan.name}_e{k}_atr.txt", rows)
    selfs = [(u, cat) for u in plan.utterances for i, cat in u.categorical.items() if not i.startswith("C-E")]
    if selfs:
        anvil = [
            '<?xml version="1.0" encoding="ISO-8859-1"?>',
            "<annotation>",
            f'  <head><video src="{plan.name}.avi" /></head>',
            "  <body>",
        ]
        anvil += [
            f'    <el start="{u.start:.4f}" end="{u.end:.4f}" turn="{u.utt_id}">{cat.split(";")[0]}</el>'
            for u, cat in selfs
        ]
        _write(emo / "Self-evaluation" / f"{plan.name}.anvil", anvil + ["  </body>", "</annotation>"])

    trans = [
        f"{u.utt_id} [{u.start:08.4f}-{u.end:08.4f}]: {u.text}"
        for u in sorted(plan.utterances, key=lambda u: (u.start, u.utt_id))
    ]
    _write(dialog_dir / "transcriptions" / f"{plan.name}.txt", trans)
    (dialog_dir / "lab").mkdir(parents=True, exist_ok=True)
    (root / f"Session{plan.session}" / "sentences" / "ForcedAlignment").mkdir(parents=True, exist_ok=True)


TRUTH_COLUMNS = (
    "utt_id",
    "dialog",
    "session",
    "speaker",
    "gender",
    "side",
    "scripted",
    "start",
    "end",
    "mid_frame",
    "label",
    "label4",
    "intended",
    "face_expr",
    "voice_expr",
    "text_expr",
    "other_actor_expr",
    "text",
)


def write_truth(root: Path, dialogs: list[DialogPlan]) -> Path:
    path = root / "synth_truth.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for plan in dialogs:
            for u in sorted(plan.utterances, key=lambda u: u.start):
                w.writerow(
                    [
                        u.utt_id,
                        plan.name,
                        plan.session,
                        f"Ses{plan.session:02d}{u.gender}",
                        u.gender,
                        plan.side(u.gender),
                        int(plan.scripted),
                        f"{u.start:.4f}",
                        f"{u.end:.4f}",
                        middle_frame(u.start, u.end),
                        u.label,
                        FOUR_CLASS.get(u.label, ""),
                        u.intended,
                        u.face_expr,
                        u.voice_expr,
                        u.text_expr,
                        u.other_expr,
                        u.text,
                    ]
                )
    return path


def middle_frame(start: float, end: float) -> int:
    return int(round((start + end) / 2 * FPS))


# --------------------------------------------------------------------------------------------- media


def render_dialog(root: Path, plan: DialogPlan, actors: dict[str, Actor], cfg: SynthConfig) -> float:
    """Write the dialog wav, sentence wavs and the AVI; returns the dialog length in seconds."""
    session_dir = root / f"Session{plan.session}"
    rngs = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence([cfg.seed, 3, plan.session, plan.index]).spawn(len(plan.utterances) + 4)
    ]
    tracks = {g: np.zeros(plan.n_samples, np.float32) for g in ("F", "M")}
    for u, rng in zip(plan.utterances, rngs):
        a, b = (int(round(t * SAMPLE_RATE)) for t in u.speech)
        b = min(b, plan.n_samples)
        actor = actors[f"Ses{plan.session:02d}{u.gender}"]
        tracks[u.gender][a:b] += voice.synth_speech(b - a, u.voice_expr, actor.voice, rng, cfg.voice_noise)
    floor = (rngs[-1].standard_normal(plan.n_samples) * cfg.noise_floor).astype(np.float32)
    mix = tracks["F"] + tracks["M"] + floor
    wav_dir = session_dir / "dialog" / "wav"
    wav_dir.mkdir(parents=True, exist_ok=True)
    sf.write(wav_dir / f"{plan.name}.wav", voice.to_pcm16(mix), SAMPLE_RATE, subtype="PCM_16")
    sent_dir = session_dir / "sentences" / "wav" / plan.name
    sent_dir.mkdir(parents=True, exist_ok=True)
    for u in plan.utterances:
        a, b = int(round(u.start * SAMPLE_RATE)), min(int(round(u.end * SAMPLE_RATE)), plan.n_samples)
        other = "M" if u.gender == "F" else "F"
        seg = tracks[u.gender][a:b] + cfg.crosstalk * tracks[other][a:b] + floor[a:b]
        sf.write(sent_dir / f"{u.utt_id}.wav", voice.to_pcm16(seg), SAMPLE_RATE, subtype="PCM_16")

    n = plan.n_frames
    sides = []
    for k, g in enumerate((plan.lead, "M" if plan.lead == "F" else "F")):
        segments = [(t0, t1, p) for t0, t1, _, p in plan.idle[g]]
        segments += [(u.start, u.end, u.face_params) for u in plan.utterances if u.gender == g]
        sides.append(
            (
                actors[f"Ses{plan.session:02d}{g}"].look,
                face.expression_track(n, segments),
                voice.mouth_envelope(tracks[g], FPS, n),
                face.head_motion(n, rngs[-2 - k]),
            )
        )
    canvas = face.FaceCanvas(*cfg.frame_size, plan.background, rngs[-4], pixel_noise=cfg.pixel_noise)
    avi_dir = session_dir / "dialog" / "avi" / "DivX"
    avi_dir.mkdir(parents=True, exist_ok=True)
    face.write_video(avi_dir / f"{plan.name}.avi", canvas, n, sides, cfg.keyframe_interval)
    return plan.duration


def _render_job(args) -> tuple[str, float]:
    root, plan, actors, cfg = args
    return plan.name, render_dialog(Path(root), plan, actors, cfg)


# --------------------------------------------------------------------------------------------- entry points


def generate_iemocap(out: str | Path, config: SynthConfig | None = None, *, progress: bool = True) -> Path:
    """Write a synthetic corpus under `out/IEMOCAP_full_release` and return that folder."""
    cfg = config or SynthConfig()
    root = Path(out) / "IEMOCAP_full_release"
    if root.is_dir() and any(root.iterdir()):
        if not (root / "synth_info.json").is_file():  # never write into a real corpus
            raise FileExistsError(f"{root} exists and is not a synthetic corpus; choose another output folder")
        for old in root.glob("Session*"):  # a previous synthetic corpus: start afresh
            shutil.rmtree(old)
    root.mkdir(parents=True, exist_ok=True)
    actors, dialogs = plan_corpus(cfg)
    for plan in dialogs:
        write_text_files(root, plan, cfg)
    write_truth(root, dialogs)
    info = {
        "generator": "emorec synth iemocap",
        "config": _config_dict(cfg),
        "dialogs": [
            {
                "dialog": d.name,
                "session": d.session,
                "seconds": d.duration,
                "frames": d.n_frames,
                "utterances": len(d.utterances),
            }
            for d in dialogs
        ],
    }
    (root / "synth_info.json").write_text(json.dumps(info, indent=1) + "\n")
    if cfg.media:
        jobs = [(str(root), d, actors, cfg) for d in dialogs]
        bar = tqdm(total=len(jobs), desc="synth dialogs", unit="dialog", disable=not progress)
        if cfg.workers <= 1:
            for job in jobs:
                _render_job(job)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(cfg.workers, os.cpu_count() or 1)) as pool:
                for fut in as_completed([pool.submit(_render_job, j) for j in jobs]):
                    fut.result()
                    bar.update()
        bar.close()
    return root


def _config_dict(cfg: SynthConfig) -> dict:
    d = asdict(cfg)
    d["frame_size"] = list(cfg.frame_size)
    d.pop("workers")
    return d


def summary(root: str | Path) -> str:
    """A short account of a generated corpus: utterances by label and session, seconds of media."""
    root = Path(root)
    with open(root / "synth_truth.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    info = json.loads((root / "synth_info.json").read_text())
    labels = Counter(r["label"] for r in rows)
    sessions = Counter(int(r["session"]) for r in rows)
    four = Counter(r["label4"] for r in rows if r["label4"])
    seconds = sum(d["seconds"] for d in info["dialogs"])
    improvised = sum(r["scripted"] == "0" for r in rows) / max(len(rows), 1)
    return "\n".join(
        [
            f"{len(rows)} utterances in {len(info['dialogs'])} dialogs ({improvised:.0%} improvised); "
            f"{seconds:.0f} s of media ({seconds / 60:.1f} min) at {info['config']['frame_size'][0]}x"
            f"{info['config']['frame_size'][1]}, {FPS} fps",
            "by label:   " + " ".join(f"{c} {labels[c]}" for c in LABEL_CODES if labels[c]),
            "4-class:    "
            + " ".join(f"{c} {four[c]}" for c in ("neu", "hap", "sad", "ang"))
            + f" (= {sum(four.values())})",
            "by session: " + " ".join(f"{s}: {n}" for s, n in sorted(sessions.items())),
            f"root: {root}",
        ]
    )


__all__ = ["SynthConfig", "generate_iemocap", "plan_corpus", "summary", "LABEL_CODES", "CATEGORY_NAMES"]
