"""A synthetic corpus in the real IEMOCAP release layout: drawn two-actor video, speech-like audio, transcripts.

Every utterance has one true label. Each modality (face, voice, text) independently expresses that emotion or,
with probability `*_confusion`, a random emotion from another class, plus continuous noise; the per-utterance
ground truth is written to `IEMOCAP_full_release/synth_truth.csv` (corpus readers ignore it).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from emorec.corpora.synth import face, text, voice

LABEL_CODES = ("neu", "hap", "sad", "ang", "fru", "exc", "sur", "fea", "dis", "oth", "xxx")
# Utterances per label in the real release (df_iemocap.csv), by dialog type.
REAL_COUNTS = {
    "impro": (1099, 284, 608, 289, 971, 663, 60, 8, 1, 1, 800),
    "script": (609, 311, 476, 814, 878, 378, 47, 32, 1, 2, 1707),
}
CATEGORY_NAMES = {"neu": "Neutral state", "hap": "Happiness", "sad": "Sadness", "ang": "Anger",
                  "fru": "Frustration", "exc": "Excited", "sur": "Surprise", "fea": "Fear", "dis": "Disgust",
                  "oth": "Other"}
FOUR_CLASS = {"neu": "neu", "hap": "hap", "exc": "hap", "sad": "sad", "ang": "ang"}
# Mean valence, activation, dominance per label in the real release.
REAL_VAD = {"neu": (2.97, 2.73, 2.83), "hap": (3.95, 3.12, 2.92), "exc": (3.95, 3.58, 3.40),
            "sad": (2.25, 2.56, 2.83), "ang": (1.91, 3.64, 3.95), "fru": (2.26, 3.18, 3.32),
            "sur": (2.85, 3.22, 2.85), "fea": (2.50, 3.24, 2.37), "dis": (2.75, 2.00, 1.75),
            "oth": (3.28, 2.61, 2.17)}
DURATION_FACTOR = {"neu": 0.9, "sad": 1.15, "sur": 0.7, "fea": 0.75, "exc": 1.05, "fru": 1.05}
OTHER_COMMENTS = ("disbelief", "sarcastic", "nervous", "confused", "amused", "bored", "tired")
ATTRIBUTE_COMMENTS = {"hap": "optimistic, cheerful", "exc": "enthusiastic, energetic", "sad": "discouraged, gloomy",
                      "ang": "threatening, belligerent", "fru": "impatient, annoyed", "neu": "calm, polite"}
SCRIPT_IDS = ("01_1", "02_1", "03_1", "01_2", "02_2", "03_2", "01_3", "02_3", "03_3")
MAX_DIALOGS = 16 + 2 * len(SCRIPT_IDS)
SAMPLE_RATE = voice.SAMPLE_RATE
FPS = face.FPS
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"


@dataclass
class SynthConfig:
    """Size, media and noise knobs of the synthetic corpus; see docs/synth.md."""

    seed: int = 0
    sessions: int = 5
    dialogs_per_session: int = 4
    utterances_per_dialog: int | None = 24  # None: drawn per dialog like the real corpus (~60 improvised, ~74 scripted)
    frame_size: tuple[int, int] = (192, 128)  # width, height
    keyframe_interval: int = 12  # frames between AVI keyframes (FFmpeg's MPEG-4 default; DivX allows up to 300)
    modality_confusion: float = 0.3
    face_confusion: float | None = None  # None: modality_confusion
    voice_confusion: float | None = None
    text_confusion: float | None = None
    face_noise: float = 0.35  # jitter of expression parameters (EXPR_SPREAD units)
    voice_noise: float = 0.35  # jitter of prosody parameters (PROSODY_SPREAD units)
    text_word_noise: float = 0.15  # chance the emotion word comes from another emotion
    text_neutral_rate: float = 0.2  # chance a sentence carries no emotion clause at all
    pixel_noise: float = 6.0  # std of per-pixel noise (0-255 scale)
    crosstalk: float = 0.06  # level of the other speaker in a sentence wav
    noise_floor: float = 0.002  # std of the background noise in the wavs
    dialog_mood: float = 8.0  # Dirichlet concentration of per-dialog (per-script) label mixes; 0 = all alike
    script_fidelity: float = 0.75  # chance a scripted turn is labelled with the emotion its line was written for
    crlf: bool = True  # EmoEvaluation files of odd sessions use CRLF line ends, as some real files do
    media: bool = True  # False writes only the text files (fast)
    workers: int = 1

    def __post_init__(self):
        self.frame_size = tuple(int(v) for v in self.frame_size)  # type: ignore[assignment]
        w, h = self.frame_size
        if w < 64 or h < 48 or w % 4 or h % 2:
            raise ValueError(f"frame size {w}x{h}: need width >= 64 (a multiple of 4) and even height >= 48")
        if not 1 <= self.sessions <= 9:
            raise ValueError(f"sessions must be 1..9, got {self.sessions}")
        if not 1 <= self.dialogs_per_session <= MAX_DIALOGS:
            raise ValueError(f"dialogs_per_session must be 1..{MAX_DIALOGS}, got {self.dialogs_per_session}")
        if not 1 <= self.keyframe_interval <= 600:
            raise ValueError(f"keyframe_interval must be 1..600 frames, got {self.keyframe_interval}")
        if self.utterances_per_dialog is not None and self.utterances_per_dialog < 2:
            raise ValueError(f"utterances_per_dialog must be >= 2, got {self.utterances_per_dialog}")
        for name in ("modality_confusion", "face_confusion", "voice_confusion", "text_confusion",
                     "text_word_noise", "text_neutral_rate", "script_fidelity"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v}")

    @classmethod
    def preset(cls, size: str = "small", **overrides) -> "SynthConfig":
        """'small' (the fast default) or 'full' (about the real scale: 5 x 30 dialogs, ~10,000 utterances, 720x480)."""
        base: dict = {}
        if size == "full":
            base = dict(sessions=5, dialogs_per_session=30, utterances_per_dialog=None, frame_size=(720, 480))
        elif size != "small":
            raise ValueError(f"unknown size {size!r}; use 'small' or 'full'")
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)

    def confusion(self, modality: str) -> float:
        v = getattr(self, f"{modality}_confusion")
        return self.modality_confusion if v is None else v


@dataclass
class Actor:
    session: int
    gender: str
    look: face.FaceLook
    voice: voice.VoiceTraits

    @property
    def name(self) -> str:
        return f"Ses{self.session:02d}{self.gender}"


@dataclass
class PlannedUtterance:
    utt_id: str
    gender: str
    start: float
    end: float
    speech: tuple[float, float]
    label: str
    intended: str  # the emotion the actor meant ('xxx' turns hide one the evaluators split on)
    face_expr: str
    voice_expr: str
    text_expr: str
    face_params: np.ndarray
    text: str
    vad: tuple[float, float, float]
    evaluator_lines: list[str]
    categorical: dict[str, str]  # evaluator id -> category field, for Categorical/ files
    attributes: dict[str, tuple[int, int, int]]
    other_expr: str = ""


@dataclass
class DialogPlan:
    name: str
    session: int
    index: int
    lead: str  # gender of the actor on the left
    scripted: bool
    duration: float
    background: tuple[int, int, int]
    utterances: list[PlannedUtterance]
    idle: dict[str, list[tuple[float, float, str, np.ndarray]]] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(math.ceil(self.duration * FPS))

    @property
    def n_samples(self) -> int:
        return int(round(self.duration * SAMPLE_RATE))

    def side(self, gender: str) -> str:
        return "left" if gender == self.lead else "right"


# --------------------------------------------------------------------------------------------- planning


def dialog_names(session: int, count: int) -> list[tuple[str, str, bool]]:
    """(name, lead gender, scripted) of `count` dialogs, alternating improvised/scripted and the leading gender.

    The order rotates with the session so that even one dialog per session gives both leads and both types.
    """
    impro = [(f"Ses{session:02d}{g}_impro{k:02d}", g, False) for k in range(1, 9) for g in ("F", "M")]
    script = [(f"Ses{session:02d}{g}_script{s}", g, True)  # every script once, then each again with the other lead
              for first in ("M", "F") for i, s in enumerate(SCRIPT_IDS)
              for g in [first if i % 2 == 0 else ("F" if first == "M" else "M")]]
    mixed = [d for pair in zip(impro, script) for d in pair] + script[len(impro):]
    r = (session - 1) % 4
    return (mixed[r:] + mixed[:r])[:count]


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in key]))


def plan_actors(cfg: SynthConfig) -> dict[str, Actor]:
    actors = {}
    for s in range(1, cfg.sessions + 1):
        for g in ("F", "M"):
            rng = _rng(cfg.seed, 1, s, 0 if g == "F" else 1)
            actors[f"Ses{s:02d}{g}"] = Actor(s, g, face.FaceLook.draw(g, rng), voice.VoiceTraits.draw(g, rng))
    return actors


def plan_corpus(cfg: SynthConfig) -> tuple[dict[str, Actor], list[DialogPlan]]:
    """All decisions of the corpus (labels, times, expressions, text) without rendering any media."""
    actors = plan_actors(cfg)
    dialogs = []
    for s in range(1, cfg.sessions + 1):
        bg_rng = _rng(cfg.seed, 5, s)
        background = tuple(int(c) for c in bg_rng.integers(90, 200, 3))
        for i, (name, lead, scripted) in enumerate(dialog_names(s, cfg.dialogs_per_session)):
            rng = _rng(cfg.seed, 2, s, i)
            bg = tuple(int(np.clip(c + rng.integers(-12, 13), 0, 255)) for c in background)
            dialogs.append(_plan_dialog(name, s, i, lead, scripted, bg, rng, cfg))  # type: ignore[arg-type]
    return actors, dialogs


def _label_probs(scripted: bool, rng: np.random.Generator, mood: float) -> np.ndarray:
    p = np.array(REAL_COUNTS["script" if scripted else "impro"], float)
    p /= p.sum()
    if mood > 0:
        q = rng.dirichlet(np.maximum(p * mood, 1e-3))
        if np.all(np.isfinite(q)) and q.sum() > 0:
            p = q / q.sum()
    return p


def _confuser(intended: str, rng: np.random.Generator) -> str:
    group = FOUR_CLASS.get(intended, intended)
    pool = [c for c in face.EXPRESSIVE_CODES if FOUR_CLASS.get(c, c) != group]
    return str(rng.choice(pool))


def _n_utterances(cfg: SynthConfig, scripted: bool, rng: np.random.Generator) -> int:
    if cfg.utterances_per_dialog is not None:
        return cfg.utterances_per_dialog
    mean, sd = (74.0, 19.0) if scripted else (60.0, 22.0)
    return int(np.clip(round(rng.normal(mean, sd)), 24, 120))


@dataclass(frozen=True)
class ScriptLine:
    """One line of a script, the same in every session that performs it."""

    role: int  # 0 = the actor leading the dialog, 1 = the other
    emotion: str  # what the line was written to express
    text_expr: str  # what its words express (the emotion, or with text confusion another one)
    text: str


def plan_script(script: str, cfg: SynthConfig) -> list[ScriptLine]:
    """The lines of script `script` ('01_1' ...): roles, intended emotions and text, shared by all sessions."""
    rng = _rng(cfg.seed, 6, SCRIPT_IDS.index(script))
    n = _n_utterances(cfg, True, rng)
    p = _label_probs(True, rng, cfg.dialog_mood)[:-1]
    p = p / p.sum()
    role, lines = int(rng.random() >= 0.6), []
    for _ in range(n):
        emotion = str(rng.choice(LABEL_CODES[:-1], p=p))
        text_expr = _confuser(emotion, rng) if rng.random() < cfg.confusion("text") else emotion
        lines.append(ScriptLine(role, emotion, text_expr,
                                text.make_sentence(text_expr, rng, cfg.text_word_noise, cfg.text_neutral_rate)))
        if rng.random() < 0.83:
            role = 1 - role
    return lines


def _turns(name: str, lead: str, scripted: bool, rng: np.random.Generator, cfg: SynthConfig):
    """(gender, label, intended emotion, text_expr, text) per turn in time order."""
    other = {"F": "M", "M": "F"}
    turns = []
    if scripted:
        p = np.array(REAL_COUNTS["script"], float)
        p_xxx, p_label = p[-1] / p.sum(), p[:-1] / p[:-1].sum()
        for line in plan_script(name.split("_script", 1)[1], cfg):
            if rng.random() < p_xxx:  # evaluators disagree on how the line was played
                label, intended = "xxx", line.emotion
            elif rng.random() < cfg.script_fidelity:
                label = intended = line.emotion
            else:
                label = intended = str(rng.choice(LABEL_CODES[:-1], p=p_label))
            turns.append((lead if line.role == 0 else other[lead], label, intended, line.text_expr, line.text))
        return turns
    probs = _label_probs(False, rng, cfg.dialog_mood)
    expressive_p = probs[:-1] / probs[:-1].sum()
    gender = lead if rng.random() < 0.6 else other[lead]
    for _ in range(_n_utterances(cfg, False, rng)):
        label = str(rng.choice(LABEL_CODES, p=probs))
        intended = label if label != "xxx" else str(rng.choice(LABEL_CODES[:-1], p=expressive_p))
        text_expr = _confuser(intended, rng) if rng.random() < cfg.confusion("text") else intended
        turns.append((gender, label, intended, text_expr,
                      text.make_sentence(text_expr, rng, cfg.text_word_noise, cfg.text_neutral_rate)))
        if rng.random() < 0.83:
            gender = other[gender]
    return turns


def _plan_dialog(name: str, session: int, index: int, lead: str, scripted: bool, background: tuple[int, int, int],
                 rng: np.random.Generator, cfg: SynthConfig) -> DialogPlan:
    other = {"F": "M", "M": "F"}
    last_end = {"F": -1.0, "M": -1.0}
    counters: Counter = Counter()
    evaluators = sorted(rng.choice(np.arange(1, 7), 3, replace=False).tolist())
    has_self = bool(rng.random() < 0.5)
    utts: list[PlannedUtterance] = []
    prev: PlannedUtterance | None = None
    for gender, label, intended, text_expr, sentence in _turns(name, lead, scripted, rng, cfg):
        dur = float(np.clip(rng.lognormal(math.log(3.5 * DURATION_FACTOR.get(intended, 1.0)), 0.6), 0.8, 20.0))
        if prev is None:
            start = rng.uniform(1.5, 4.5)
        elif gender != prev.gender:
            prev_dur = prev.end - prev.start
            if rng.random() < 0.85:  # the real corpus: most turn changes overlap, median 0.6 s
                start = prev.end - min(rng.lognormal(math.log(0.6), 0.7), 0.5 * min(prev_dur, dur))
            else:
                start = prev.end + min(rng.lognormal(math.log(0.45), 1.0), 6.0)
        else:
            start = prev.end + min(rng.lognormal(math.log(0.1), 1.2), 4.0)
        start = round(max(start, last_end[gender] + 0.05), 4)
        end = round(start + dur, 4)
        pad_a, pad_b = (min(rng.uniform(0.05, 0.3), 0.2 * dur) for _ in range(2))
        face_expr, voice_expr = (_confuser(intended, rng) if rng.random() < cfg.confusion(m) else intended
                                 for m in ("face", "voice"))
        vad, attributes = _attributes(intended, evaluators, has_self, gender, rng)
        lines, categorical = _evaluator_lines(label, intended, evaluators, has_self, gender, attributes, rng)
        u = PlannedUtterance(
            utt_id=f"{name}_{gender}{counters[gender]:03d}", gender=gender, start=start, end=end,
            speech=(start + pad_a, end - pad_b), label=label, intended=intended, face_expr=face_expr,
            voice_expr=voice_expr, text_expr=text_expr,
            face_params=face.expression_params(face_expr, rng, cfg.face_noise), text=sentence,
            vad=vad, evaluator_lines=lines, categorical=categorical, attributes=attributes)
        counters[gender] += 1
        last_end[gender] = end
        utts.append(u)
        prev = u
    duration = round(max(u.end for u in utts) + rng.uniform(1.0, 2.5), 4)
    plan = DialogPlan(name, session, index, lead, scripted, duration, background, utts)
    for g in ("F", "M"):
        plan.idle[g] = _idle_segments(duration, rng, cfg.face_noise)
    for u in utts:
        u.other_expr = expression_at(plan, other[u.gender], (u.start + u.end) / 2)
    return plan


def _idle_segments(duration: float, rng: np.random.Generator, noise: float):
    """A listener's face: random expressions, each held for 1.5-5 s."""
    segs, t = [], 0.0
    while t < duration:
        code = str(rng.choice(face.EXPRESSIVE_CODES))
        t1 = t + rng.uniform(1.5, 5.0)
        segs.append((t, t1, code, face.expression_params(code, rng, noise)))
        t = t1
    return segs


def expression_at(plan: DialogPlan, gender: str, t: float) -> str:
    """The expression the actor of `gender` shows at time `t` (own utterance, else the idle schedule)."""
    for u in plan.utterances:
        if u.gender == gender and u.start <= t < u.end:
            return u.face_expr
    for t0, t1, code, _ in plan.idle[gender]:
        if t0 <= t < t1:
            return code
    return "neu"


def _attributes(intended: str, evaluators: list[int], has_self: bool, gender: str, rng: np.random.Generator):
    means = np.array(REAL_VAD[intended])
    ids = [f"A-E{e}" for e in evaluators[: 2 + int(rng.random() < 0.3)]]
    if has_self:
        ids.append(f"A-{gender}1")
    scores = {i: tuple(int(v) for v in np.clip(np.round(rng.normal(means, 0.7)), 1, 5)) for i in ids}
    outside = [v for i, v in scores.items() if i.startswith("A-E")]
    vad = tuple(float(np.mean([s[k] for s in outside])) for k in range(3))
    return vad, scores


def _evaluator_lines(label: str, intended: str, evaluators: list[int], has_self: bool, gender: str,
                     attributes: dict, rng: np.random.Generator) -> tuple[list[str], dict[str, str]]:
    """Categorical and attribute lines whose majority gives `label` ('xxx': no majority)."""
    ids = [f"C-E{e}" for e in evaluators]
    names = [n for c, n in CATEGORY_NAMES.items() if c != intended]
    votes: list[str]
    if label == "xxx":
        others = [str(x) for x in rng.choice(names, len(ids) - 1, replace=False)]
        votes = [CATEGORY_NAMES[intended]] + others
        rng.shuffle(votes)
        if rng.random() < 0.05:
            votes[-1] = ""
    else:
        main = CATEGORY_NAMES[label]
        agree = len(ids) if rng.random() < 0.45 else len(ids) - 1
        second = str(rng.choice(names))
        votes = [main] * agree + [second] * (len(ids) - agree)
        if agree == len(ids) and rng.random() < 0.15:  # one evaluator also ticks a second category
            votes[int(rng.integers(0, len(ids)))] = f"{main}; {second}"
        rng.shuffle(votes)
    if has_self:
        ids.append(f"C-{gender}1")
        votes.append(CATEGORY_NAMES[intended] if rng.random() < 0.7 else str(rng.choice(names)))
    lines, categorical = [], {}
    for i, v in zip(ids, votes):
        comment = f"({rng.choice(OTHER_COMMENTS)})" if "Other" in v else "()"
        field_ = f"{v};" if v else ";"
        lines.append(f"{i}:\t{field_}\t{comment}")
        categorical[i] = f"{field_} {comment}"
    for i, (v, a, d) in attributes.items():
        comment = f"({ATTRIBUTE_COMMENTS[intended]})" if intended in ATTRIBUTE_COMMENTS and rng.random() < 0.2 else "()"
        lines.append(f"{i}:\tval {v}; act {a}; dom  {d};\t{comment}")
    return lines, categorical


# --------------------------------------------------------------------------------------------- text files


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
        anvil = ['<?xml version="1.0" encoding="ISO-8859-1"?>', "<annotation>",
                 f'  <head><video src="{plan.name}.avi" /></head>', "  <body>"]
        anvil += [f'    <el start="{u.start:.4f}" end="{u.end:.4f}" turn="{u.utt_id}">{cat.split(";")[0]}</el>'
                  for u, cat in selfs]
        _write(emo / "Self-evaluation" / f"{plan.name}.anvil", anvil + ["  </body>", "</annotation>"])

    trans = [f"{u.utt_id} [{u.start:08.4f}-{u.end:08.4f}]: {u.text}"
             for u in sorted(plan.utterances, key=lambda u: (u.start, u.utt_id))]
    _write(dialog_dir / "transcriptions" / f"{plan.name}.txt", trans)
    (dialog_dir / "lab").mkdir(parents=True, exist_ok=True)
    (root / f"Session{plan.session}" / "sentences" / "ForcedAlignment").mkdir(parents=True, exist_ok=True)


TRUTH_COLUMNS = ("utt_id", "dialog", "session", "speaker", "gender", "side", "scripted", "start", "end",
                 "mid_frame", "label", "label4", "intended", "face_expr", "voice_expr", "text_expr",
                 "other_actor_expr", "text")


def write_truth(root: Path, dialogs: list[DialogPlan]) -> Path:
    path = root / "synth_truth.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for plan in dialogs:
            for u in sorted(plan.utterances, key=lambda u: u.start):
                w.writerow([u.utt_id, plan.name, plan.session, f"Ses{plan.session:02d}{u.gender}", u.gender,
                            plan.side(u.gender), int(plan.scripted), f"{u.start:.4f}", f"{u.end:.4f}",
                            middle_frame(u.start, u.end), u.label, FOUR_CLASS.get(u.label, ""), u.intended,
                            u.face_expr, u.voice_expr, u.text_expr, u.other_expr, u.text])
    return path


def middle_frame(start: float, end: float) -> int:
    return int(round((start + end) / 2 * FPS))


# --------------------------------------------------------------------------------------------- media


def render_dialog(root: Path, plan: DialogPlan, actors: dict[str, Actor], cfg: SynthConfig) -> float:
    """Write the dialog wav, sentence wavs and the AVI; returns the dialog length in seconds."""
    session_dir = root / f"Session{plan.session}"
    rngs = [np.random.default_rng(s) for s in
            np.random.SeedSequence([cfg.seed, 3, plan.session, plan.index]).spawn(len(plan.utterances) + 4)]
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
        sides.append((actors[f"Ses{plan.session:02d}{g}"].look, face.expression_track(n, segments),
                      voice.mouth_envelope(tracks[g], FPS, n), face.head_motion(n, rngs[-2 - k])))
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
    info = {"generator": "emorec synth iemocap", "config": _config_dict(cfg),
            "dialogs": [{"dialog": d.name, "session": d.session, "seconds": d.duration, "frames": d.n_frames,
                         "utterances": len(d.utterances)} for d in dialogs]}
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
    return "\n".join([
        f"{len(rows)} utterances in {len(info['dialogs'])} dialogs ({improvised:.0%} improvised); "
        f"{seconds:.0f} s of media ({seconds / 60:.1f} min) at {info['config']['frame_size'][0]}x"
        f"{info['config']['frame_size'][1]}, {FPS} fps",
        "by label:   " + " ".join(f"{c} {labels[c]}" for c in LABEL_CODES if labels[c]),
        "4-class:    " + " ".join(f"{c} {four[c]}" for c in ("neu", "hap", "sad", "ang"))
        + f" (= {sum(four.values())})",
        "by session: " + " ".join(f"{s}: {n}" for s, n in sorted(sessions.items())),
        f"root: {root}",
    ])


__all__ = ["SynthConfig", "generate_iemocap", "plan_corpus", "summary", "LABEL_CODES", "CATEGORY_NAMES"]
