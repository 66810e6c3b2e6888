"""One work unit = the utterances cut from one media file (an IEMOCAP dialog, a clip): all modalities,
written as one shard. Runs in worker processes, so everything here is importable and picklable."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.corpora.records import Utterance
from emorec.media.audio import AudioError, AudioSource, Functionals, SpectrogramMaker, to_float16
from emorec.preprocess.config import FUNCTIONAL_SETS, MODALITIES, PreprocessConfig
from emorec.preprocess.store import NOT_COMPUTED, array_specs, write_shard
from emorec.preprocess.text import clean_text, tokenize, tokenize_with_context
from emorec.media.video import (
    FaceFinder,
    VideoError,
    crop_frame,
    frame_window,
    pick_frames,
    probe,
    read_frames,
    scaled_rgb,
    to_rgb,
)

SENTENCE_FALLBACK = "sentence wav missing: cut from the dialog audio"


@dataclass
class UnitTask:
    key: str
    rows: list[int]  # positions in the store
    utterances: list[Utterance]
    config: dict  # PreprocessConfig.model_dump()
    shard: str
    contexts: list[str] | None = None  # dialogue context per utterance (text_context > 0)
    overlap_video: bool = False  # single-process runs: video decoded in a thread beside the audio and text work


class _Tools:
    """Per-process helpers built once per config (mel filters, face cascade, openSMILE)."""

    _cache: dict[str, "_Tools"] = {}

    def __init__(self, cfg: PreprocessConfig):
        self.spec = SpectrogramMaker.from_config(cfg) if "audio" in cfg.modalities else None
        self.faces = FaceFinder(cfg.face_margin) if cfg.crop == "face" and "frame" in cfg.modalities else None
        audio = "audio" in cfg.modalities
        self.functionals = {name: Functionals(cfg.sample_rate, name) for name in FUNCTIONAL_SETS if audio and getattr(cfg, name)}

    @classmethod
    def get(cls, cfg: PreprocessConfig) -> "_Tools":
        h = cfg.config_hash()
        if h not in cls._cache:
            cls._cache[h] = cls(cfg)
        return cls._cache[h]


class _Log:
    """Failure reasons per file, told once per file at the end of the unit, plus counted notes."""

    def __init__(self):
        self.problems: dict[str, dict[str, list]] = {}  # file -> reason -> [count, first detail]
        self.notes: dict[str, int] = {}

    def warn(self, file: str, reason: str, detail: str = "") -> None:
        detail = "" if detail == str(file) else detail
        entry = self.problems.setdefault(str(file), {}).setdefault(reason, [0, detail])
        entry[0] += 1

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def warnings(self) -> list[str]:
        """One line per file: each reason with the number of utterances it cost and its first detail."""
        lines = []
        for file, reasons in self.problems.items():
            parts = [f"{reason} x{n}" + (f" ({detail})" if detail else "") for reason, (n, detail) in reasons.items()]
            lines.append(f"{file}: " + "; ".join(parts))
        return lines


def process_unit(task: UnitTask) -> dict:
    """Compute every modality for the unit's utterances, write its shard; return counts for the progress bar."""
    t0 = time.perf_counter()
    cfg = PreprocessConfig(**task.config)
    tools = _Tools.get(cfg)
    n = len(task.utterances)
    specs = array_specs(cfg)
    arrays = {name: np.zeros((n, *shape), dtype) for name, (shape, dtype) in specs.items()}
    meta = [_empty_meta(cfg) for _ in range(n)]
    log = _Log()
    steps = {"frame": lambda: _frames(task, cfg, tools, arrays["frames"], meta, log),
             "audio": lambda: _audio(task, cfg, tools, arrays, meta, log),
             "text": lambda: _text(task, cfg, arrays, meta)}

    def run(m: str) -> None:
        try:
            steps[m]()
        except Exception as e:  # an unforeseen failure costs this unit's modality, not the run
            _unit_failed(task, m, e, arrays, meta, log)

    rest = list(cfg.modalities)
    video = None
    if task.overlap_video and "frame" in rest and len(rest) > 1:
        # PyAV decodes without the GIL: the video pass overlaps the audio and text work (other arrays,
        # other manifest keys)
        rest.remove("frame")
        video = threading.Thread(target=run, args=("frame",), name=f"video {task.key}")
        video.start()
    try:
        for m in rest:
            run(m)
    finally:
        if video is not None:
            video.join()
    info = {
        "warnings": log.warnings(),
        "notes": log.notes,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    write_shard(Path(task.shard), task.rows, [u.utt_id for u in task.utterances], arrays, meta, info)
    return {"key": task.key, "n": n, "warnings": info["warnings"], "notes": log.notes}


ARRAYS_OF = {"frame": ("frames",), "audio": ("spec", *FUNCTIONAL_SETS), "text": ("input_ids", "attention_mask")}


def _unit_failed(task: UnitTask, modality: str, e: Exception, arrays: dict, meta: list[dict], log: _Log) -> None:
    """Rows the crashed step had not finished get the failure and zeros."""
    reason = f"failed: {type(e).__name__}"
    for i, row in enumerate(meta):
        if row[f"status_{modality}"] == NOT_COMPUTED:
            row[f"status_{modality}"] = reason
            for name in ARRAYS_OF[modality]:
                if name in arrays:
                    arrays[name][i] = 0
    log.warn(task.key, reason, f"{modality}: {e}")


def _empty_meta(cfg: PreprocessConfig) -> dict:
    """Per-row manifest columns with their defaults, so every row of every shard has the same keys/types."""
    row = {f"status_{m}": NOT_COMPUTED for m in MODALITIES}
    row.update(frame_indices="", audio_seconds=0.0, spec_valid=0, text_input="")
    if cfg.crop == "face":
        row["face_found"] = False
    return row


# --- frames ------------------------------------------------------------------------------------------------

def _frames(task: UnitTask, cfg: PreprocessConfig, tools: _Tools, out: np.ndarray, meta: list[dict], log: _Log) -> None:
    by_video: dict[str, list[int]] = {}
    for i, u in enumerate(task.utterances):
        by_video.setdefault(u.video_path, []).append(i)
    for path, items in by_video.items():
        _frames_of_video(path, items, task.utterances, cfg, tools, out, meta, log)


def _frames_of_video(path, items, utts, cfg, tools, out, meta, log) -> None:
    def fail(i, reason, detail=""):
        meta[i]["status_frame"] = reason
        log.warn(path, reason, detail)

    try:
        info = probe(path)
    except VideoError as e:
        for i in items:
            fail(i, e.reason, e.detail)
        return
    last = info.n_frames - 1
    picks: dict[int, tuple[list[int], int]] = {}  # row -> (frame indices, window start)
    for i in items:
        u = utts[i]
        if u.start is not None and u.end is not None and u.end <= u.start:
            fail(i, "zero-length window", f"{u.utt_id} [{u.start}, {u.end}]")
            continue
        a, b = frame_window(u.start, u.end, info.fps, info.n_frames)
        slack = 0 if info.declared else math.ceil(info.fps)  # a count without a header is less certain
        if a > last + slack:
            fail(i, "window past end of video", f"{u.utt_id} starts at frame {a}, video has {info.n_frames}")
            continue
        clamp = last if info.declared else None  # without a header count, clamp after decoding, to the real end
        picks[i] = (pick_frames(a, max(a, b), cfg.frames_per_utterance, clamp), a)
    if not picks:
        return
    wanted = {f for idx, _ in picks.values() for f in idx}
    convert = frame_converter(cfg, info)
    try:
        got = read_frames(path, wanted, convert=convert)
    except VideoError as e:
        for i in picks:
            fail(i, e.reason, e.detail)
        return
    truncated = info.declared and got.last_index + 1 < info.n_frames
    for i, (idx, a) in picks.items():
        u = utts[i]
        missing = [f for f in idx if f not in got.frames]
        if missing:
            if got.error:
                fail(i, "unreadable video", got.error)
                continue
            if truncated:
                fail(i, "truncated video", f"decoded {got.last_index + 1} of {info.n_frames} frames")
                continue
            if a > got.last_index or got.last_index < 0:
                fail(i, "window past end of video", f"{u.utt_id} starts at frame {a}, video has {got.last_index + 1}")
                continue
            # header frame count was an estimate: the window runs into the real end -> last frame
            idx = [f if f in got.frames else got.last_index for f in idx]
            if got.last_index not in got.frames:
                extra = read_frames(path, [got.last_index], convert=convert)
                got.frames.update(extra.frames)
            if any(f not in got.frames for f in idx):
                fail(i, "unreadable video", "last frame not decodable")
                continue
        found_all = True
        for k, f in enumerate(idx):
            img, found = crop_frame(got.frames[f], cfg.crop, u.side, cfg.frame_size, tools.faces)
            out[i, k] = img
            if found is False:
                found_all = False
                log.note("face not found: used the speaker's half")
        meta[i]["status_frame"] = "ok"
        meta[i]["frame_indices"] = " ".join(str(f) for f in idx)
        if cfg.crop == "face":
            meta[i]["face_found"] = found_all


def frame_converter(cfg: PreprocessConfig, info):
    """Decoded frame -> array for crop_frame. Half and full crops only need the frame at output scale, so it is
    scaled while converted to RGB (halves of a 2S x S frame are the S x S crops); face detection needs it whole.
    Prediction uses the same function so that its crops match the store's."""
    s = cfg.frame_size
    if cfg.crop == "face" or info.width < 2 * s and cfg.crop != "full":
        return to_rgb
    return scaled_rgb(s if cfg.crop == "full" else 2 * s, s)


_converter = frame_converter  # earlier name, still imported elsewhere


# --- audio -------------------------------------------------------------------------------------------------

def _audio(task: UnitTask, cfg: PreprocessConfig, tools: _Tools, arrays: dict, meta: list[dict], log: _Log) -> None:
    sources: dict[str, AudioSource | AudioError] = {}

    def source(path: str):
        if path not in sources:
            try:
                sources[path] = AudioSource(path, cfg.sample_rate)
            except AudioError as e:
                sources[path] = e
        s = sources[path]
        if isinstance(s, AudioError):
            raise s
        return s

    try:
        for i, u in enumerate(task.utterances):
            path, start, end = _audio_plan(u, cfg, log)
            try:
                y = source(path).read(start, end)
            except AudioError as e:
                meta[i]["status_audio"] = e.reason
                log.warn(path, e.reason, e.detail)
                continue
            if not np.all(np.isfinite(y)):
                y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
            img, valid = tools.spec(y)
            arrays["spec"][i] = to_float16(img)
            for name, extract in tools.functionals.items():
                arrays[name][i] = extract(y)
            meta[i].update(status_audio="ok", audio_seconds=round(len(y) / cfg.sample_rate, 4), spec_valid=int(valid))
    finally:
        for s in sources.values():
            if isinstance(s, AudioSource):
                s.close()


def _audio_plan(u: Utterance, cfg: PreprocessConfig, log: _Log) -> tuple[str, float | None, float | None]:
    """(file, start, end): the sentence wav whole when asked for and present, else the window of audio_path."""
    if cfg.audio_source == "sentence" and u.sentence_wav:
        if Path(u.sentence_wav).is_file():
            return u.sentence_wav, None, None
        log.note(SENTENCE_FALLBACK)
    return u.audio_path, u.start, u.end


# --- text --------------------------------------------------------------------------------------------------

def _text(task: UnitTask, cfg: PreprocessConfig, arrays: dict, meta: list[dict]) -> None:
    texts = [clean_text(u.text or "", cfg.tags, cfg.punctuation) for u in task.utterances]
    keep = [i for i, t in enumerate(texts) if t]
    if keep and task.contexts is not None:
        contexts = [clean_text(task.contexts[i], cfg.tags, cfg.punctuation) for i in keep]
        ids, mask = tokenize_with_context(contexts, [texts[i] for i in keep], cfg.tokenizer, cfg.max_length)
        arrays["input_ids"][keep] = ids
        arrays["attention_mask"][keep] = mask
    elif keep:
        ids, mask = tokenize([texts[i] for i in keep], cfg.tokenizer, cfg.max_length)
        arrays["input_ids"][keep] = ids
        arrays["attention_mask"][keep] = mask
    for i, t in enumerate(texts):
        meta[i]["text_input"] = t
        meta[i]["status_text"] = "ok" if t else "empty transcript"
