"""Planning a synthetic IEMOCAP corpus: its config, actors, dialogs, utterances, labels and expressions (no I/O).

Every utterance has one true label. Each modality (face, voice, text) independently expresses that emotion or,
with probability `*_confusion`, a random emotion from another class, plus continuous noise; the per-utterance
ground truth is written to `IEMOCAP_full_release/synth_truth.csv` (corpus readers ignore it).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from emorec.corpora.synth import face, text, voice
from emorec.corpora.synth.constants import (  # noqa: F401  (re-exported)
    ATTRIBUTE_COMMENTS,
    CATEGORY_NAMES,
    DURATION_FACTOR,
    FOUR_CLASS,
    FPS,
    HEADER,
    LABEL_CODES,
    MAX_DIALOGS,
    OTHER_COMMENTS,
    REAL_COUNTS,
    REAL_VAD,
    SAMPLE_RATE,
    SCRIPT_IDS,
)
from emorec.corpora.synth.evaluations import attributes, evaluator_lines


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
        for name in (
            "modality_confusion",
            "face_confusion",
            "voice_confusion",
            "text_confusion",
            "text_word_noise",
            "text_neutral_rate",
            "script_fidelity",
        ):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v}")

    @classmethod
    def preset(cls, size: str = "small", **overrides) -> SynthConfig:
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
    script = [
        (f"Ses{session:02d}{g}_script{s}", g, True)  # every script once, then each again with the other lead
        for first in ("M", "F")
        for i, s in enumerate(SCRIPT_IDS)
        for g in [first if i % 2 == 0 else ("F" if first == "M" else "M")]
    ]
    mixed = [d for pair in zip(impro, script) for d in pair] + script[len(impro) :]
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
        lines.append(
            ScriptLine(
                role, emotion, text_expr, text.make_sentence(text_expr, rng, cfg.text_word_noise, cfg.text_neutral_rate)
            )
        )
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
        turns.append(
            (
                gender,
                label,
                intended,
                text_expr,
                text.make_sentence(text_expr, rng, cfg.text_word_noise, cfg.text_neutral_rate),
            )
        )
        if rng.random() < 0.83:
            gender = other[gender]
    return turns


def _plan_dialog(
    name: str,
    session: int,
    index: int,
    lead: str,
    scripted: bool,
    background: tuple[int, int, int],
    rng: np.random.Generator,
    cfg: SynthConfig,
) -> DialogPlan:
    last_end = {"F": -1.0, "M": -1.0}
    counters: Counter = Counter()
    evaluators = sorted(rng.choice(np.arange(1, 7), 3, replace=False).tolist())
    has_self = bool(rng.random() < 0.5)
    utts: list[PlannedUtterance] = []
    prev: PlannedUtterance | None = None
    for gender, label, intended, text_expr, sentence in _turns(name, lead, scripted, rng, cfg):
        dur = float(np.clip(rng.lognormal(math.log(3.5 * DURATION_FACTOR.get(intended, 1.0)), 0.6), 0.8, 20.0))
        start = round(max(_turn_start(prev, gender, dur, rng), last_end[gender] + 0.05), 4)
        end = round(start + dur, 4)
        pad_a, pad_b = (min(rng.uniform(0.05, 0.3), 0.2 * dur) for _ in range(2))
        face_expr, voice_expr = (
            _confuser(intended, rng) if rng.random() < cfg.confusion(m) else intended for m in ("face", "voice")
        )
        vad, ratings = attributes(intended, evaluators, has_self, gender, rng)
        lines, categorical = evaluator_lines(label, intended, evaluators, has_self, gender, ratings, rng)
        u = PlannedUtterance(
            utt_id=f"{name}_{gender}{counters[gender]:03d}",
            gender=gender,
            start=start,
            end=end,
            speech=(start + pad_a, end - pad_b),
            label=label,
            intended=intended,
            face_expr=face_expr,
            voice_expr=voice_expr,
            text_expr=text_expr,
            face_params=face.expression_params(face_expr, rng, cfg.face_noise),
            text=sentence,
            vad=vad,
            evaluator_lines=lines,
            categorical=categorical,
            attributes=ratings,
        )
        counters[gender] += 1
        last_end[gender] = end
        utts.append(u)
        prev = u
    duration = round(max(u.end for u in utts) + rng.uniform(1.0, 2.5), 4)
    plan = DialogPlan(name, session, index, lead, scripted, duration, background, utts)
    for g in ("F", "M"):
        plan.idle[g] = _idle_segments(duration, rng, cfg.face_noise)
    for u in utts:
        u.other_expr = expression_at(plan, {"F": "M", "M": "F"}[u.gender], (u.start + u.end) / 2)
    return plan


def _turn_start(prev: PlannedUtterance | None, gender: str, dur: float, rng: np.random.Generator) -> float:
    """When an utterance starts: after a lead-in, overlapping or after the other speaker's turn, or after the
    same speaker's previous utterance."""
    if prev is None:
        return rng.uniform(1.5, 4.5)
    if gender != prev.gender:
        prev_dur = prev.end - prev.start
        if rng.random() < 0.85:  # the real corpus: most turn changes overlap, median 0.6 s
            return prev.end - min(rng.lognormal(math.log(0.6), 0.7), 0.5 * min(prev_dur, dur))
        return prev.end + min(rng.lognormal(math.log(0.45), 1.0), 6.0)
    return prev.end + min(rng.lognormal(math.log(0.1), 1.2), 4.0)


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
