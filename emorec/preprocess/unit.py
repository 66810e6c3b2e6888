"""One work unit = the utterances cut from one media file (an IEMOCAP dialog, a clip): every input kind of the
store, written as one shard. Runs in worker processes, so everything here is importable and picklable.

The media of each modality are decoded once (the frames of a video, the audio window of an utterance, the
transcript) and every input kind of that modality extracts its arrays from them (emorec.inputs).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emorec.corpora.records import Utterance
from emorec.inputs import MODALITIES, InputKind
from emorec.inputs.frames import frames_of_windows
from emorec.media.audio import AudioError, AudioSources
from emorec.media.video import VideoError, probe
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.store import NOT_COMPUTED, array_specs, write_shard

SENTENCE_FALLBACK = "sentence wav missing: cut from the dialog audio"
AUDIO_BATCH = 32  # windows read before their audio inputs are computed together (spectrograms: 8 per FFT call)
WINDOW_REASONS = ("zero-length window", "window past end of video")  # about one utterance: named in the detail


@dataclass
class UnitTask:
    key: str
    rows: list[int]  # positions in the store
    utterances: list[Utterance]
    config: dict  # PreprocessConfig.model_dump()
    shard: str
    contexts: list[str] | None = None  # dialogue context per utterance (text_context > 0)
    video_passes: int = 1  # decoding passes at once per video (read_frames); single-process runs use 2


_KINDS: dict[str, dict[str, list[InputKind]]] = {}  # per process: config hash -> modality -> input kinds


def _kinds(cfg: PreprocessConfig) -> dict[str, list[InputKind]]:
    """The store's input kinds by modality, built once per process and config (they hold their extractors)."""
    h = cfg.config_hash()
    if h not in _KINDS:
        by_modality: dict[str, list[InputKind]] = {m: [] for m in MODALITIES}
        for kind in cfg.inputs():
            by_modality[kind.modality].append(kind)
        _KINDS[h] = by_modality
    return _KINDS[h]


class _Log:
    """Failure reasons per file, told once per file at the end of the unit, plus counted notes."""

    def __init__(self):
        self.problems: dict[str, dict[str, list]] = {}  # file -> reason -> [count, first detail]
        self.notes: dict[str, int] = {}

    def warn(self, file: str, reason: str, detail: str = "") -> None:
        detail = "" if detail == str(file) else detail
        entry = self.problems.setdefault(str(file), {}).setdefault(reason, [0, detail])
        entry[0] += 1

    def merge(self, other: _Log) -> None:
        for file, reasons in other.problems.items():
            for reason, (n, detail) in reasons.items():
                entry = self.problems.setdefault(file, {}).setdefault(reason, [0, detail])
                entry[0] += n
        for what, n in other.notes.items():
            self.notes[what] = self.notes.get(what, 0) + n

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def warnings(self) -> list[str]:
        """One line per file: each reason with the number of utterances it cost and its first detail."""
        lines = []
        for file, reasons in self.problems.items():
            parts = [f"{reason} x{n}" + (f" ({detail})" if detail else "") for reason, (n, detail) in reasons.items()]
            lines.append(f"{file}: " + "; ".join(parts))
        return lines


FRAME_COLUMNS = ("status_frame", "frame_indices", "face_found")  # the manifest columns of the frame step


def process_unit(task: UnitTask, frames: Future | None = None) -> dict:
    """Compute every modality for the unit's utterances, write its shard; return counts for the progress bar.
    `frames`: the unit's frame step already under way elsewhere (a future of decode_frames(task))."""
    t0 = time.perf_counter()
    cfg = PreprocessConfig(**task.config)
    kinds = _kinds(cfg)
    n = len(task.utterances)
    arrays = {name: np.zeros((n, *shape), dtype) for name, (shape, dtype) in array_specs(cfg).items()}
    meta = [_empty_meta(cfg) for _ in range(n)]
    log = _Log()
    steps = {
        "audio": lambda: _audio(task, cfg, kinds["audio"], arrays, meta, log),
        "text": lambda: _text(task, kinds["text"], arrays, meta, log),
    }
    for m in (m for m in cfg.modalities if m in steps):
        try:
            steps[m]()
        except Exception as e:  # an unforeseen failure costs this unit's modality, not the run
            _unit_failed(task, m, e, arrays, meta, log)
    if "frame" in cfg.modalities:
        _take_frames(frames.result() if frames is not None else decode_frames(task), arrays, meta, log)
    info = {"warnings": log.warnings(), "notes": log.notes, "seconds": round(time.perf_counter() - t0, 3)}
    write_shard(Path(task.shard), task.rows, [u.utt_id for u in task.utterances], arrays, meta, info)
    return {"key": task.key, "n": n, "warnings": info["warnings"], "notes": log.notes}


def decode_frames(task: UnitTask) -> dict:
    """The frame step of a unit on its own: its arrays, manifest columns and problems, for process_unit."""
    cfg = PreprocessConfig(**task.config)
    kinds = _kinds(cfg)["frame"]
    specs = array_specs(cfg)
    n = len(task.utterances)
    arrays = {name: np.zeros((n, *specs[name][0]), specs[name][1]) for kind in kinds for name in kind.arrays()}
    meta = [_empty_meta(cfg) for _ in range(n)]
    log = _Log()
    try:
        _frames(task, kinds, arrays, meta, log)
    except Exception as e:  # as process_unit's steps: the unit's frames fail, the rest goes on
        _unit_failed(task, "frame", e, arrays, meta, log)
    return {"arrays": arrays, "meta": meta, "log": log}


def _take_frames(part: dict, arrays: dict, meta: list[dict], log: _Log) -> None:
    arrays.update(part["arrays"])
    for row, done in zip(meta, part["meta"]):
        row.update({k: done[k] for k in FRAME_COLUMNS if k in done})
    log.merge(part["log"])


def _unit_failed(task: UnitTask, modality: str, e: Exception, arrays: dict, meta: list[dict], log: _Log) -> None:
    """Rows the crashed step had not finished get the failure and zeros."""
    reason = f"failed: {type(e).__name__}"
    names = [name for kind in _kinds(PreprocessConfig(**task.config))[modality] for name in kind.arrays()]
    for i, row in enumerate(meta):
        if row[f"status_{modality}"] == NOT_COMPUTED:
            row[f"status_{modality}"] = reason
            for name in names:
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


def _frames(task: UnitTask, kinds: list[InputKind], arrays: dict, meta: list[dict], log: _Log) -> None:
    by_video: dict[str, list[int]] = {}
    for i, u in enumerate(task.utterances):
        by_video.setdefault(u.video_path, []).append(i)
    for path, items in by_video.items():
        for kind in kinds:
            _frames_of_video(path, items, task.utterances, kind, arrays, meta, log, task.video_passes)


def _frames_of_video(path, items, utts, kind, arrays, meta, log, passes: int = 1) -> None:
    def fail(i, reason, detail=""):
        meta[i]["status_frame"] = reason
        log.warn(path, reason, f"{utts[i].utt_id} {detail}" if reason in WINDOW_REASONS else detail)

    try:
        info = probe(path)
        spans = [(utts[i].start, utts[i].end) for i in items]
        windows = frames_of_windows(path, spans, kind.frames_per_window, kind.converter(info), info, passes)
    except VideoError as e:
        for i in items:
            fail(i, e.reason, e.detail)
        return
    (name,) = kind.arrays()
    for i, got in zip(items, windows):
        if not got.ok:
            fail(i, got.reason, got.detail)
            continue
        arrays[name][i], found = kind.crop_window(got.frames, utts[i].side)
        for _ in range(found.count(False) if found else 0):
            log.note("face not found: used the speaker's half")
        meta[i]["status_frame"] = "ok"
        meta[i]["frame_indices"] = " ".join(str(f) for f in got.indices)
        if found is not None:
            meta[i]["face_found"] = all(found)


# --- audio -------------------------------------------------------------------------------------------------


def _audio(
    task: UnitTask, cfg: PreprocessConfig, kinds: list[InputKind], arrays: dict, meta: list[dict], log: _Log
) -> None:
    with AudioSources(cfg.sample_rate) as sources:
        batch: list[tuple[int, np.ndarray]] = []  # (row, samples) read, inputs not yet computed
        for i, u in enumerate(task.utterances):
            path, start, end = _audio_plan(u, cfg, log)
            try:
                y = sources.read(path, start, end)
            except AudioError as e:
                meta[i]["status_audio"] = e.reason
                log.warn(path, e.reason, e.detail)
                continue
            if not np.all(np.isfinite(y)):
                y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
            batch.append((i, y))
            if len(batch) == AUDIO_BATCH:
                _audio_inputs(batch, kinds, arrays, meta, cfg.sample_rate)
                batch = []
        if batch:
            _audio_inputs(batch, kinds, arrays, meta, cfg.sample_rate)


def _audio_inputs(batch: list[tuple[int, np.ndarray]], kinds: list[InputKind], arrays, meta, sample_rate: int) -> None:
    """Every audio input kind of a batch of windows, computed together."""
    rows, signals = [i for i, _ in batch], [y for _, y in batch]
    for kind in kinds:
        values, info = kind.extract_with_info(signals)
        for name, column in values.items():
            arrays[name][rows] = column
        for j, i in enumerate(rows):
            meta[i].update({k: v[j] for k, v in info.items()})
    for i, y in batch:
        meta[i].update(status_audio="ok", audio_seconds=round(len(y) / sample_rate, 4))


def _audio_plan(u: Utterance, cfg: PreprocessConfig, log: _Log) -> tuple[str, float | None, float | None]:
    """(file, start, end): the sentence wav whole when asked for and present, else the window of audio_path."""
    if cfg.audio_source == "sentence" and u.sentence_wav:
        if Path(u.sentence_wav).is_file():
            return u.sentence_wav, None, None
        log.note(SENTENCE_FALLBACK)
    return u.audio_path, u.start, u.end


# --- text --------------------------------------------------------------------------------------------------


def _text(task: UnitTask, kinds: list[InputKind], arrays: dict, meta: list[dict], log: _Log) -> None:
    for kind in kinds:
        if kind.settings.text_source == "asr":
            from emorec.preprocess.asr_text import recognised_texts

            raw = recognised_texts(task.utterances, kind.settings.asr_language, log)
        else:
            raw = [u.text for u in task.utterances]
        texts = [kind.clean(t) for t in raw]
        keep = [i for i, t in enumerate(texts) if t]
        if keep:
            items = [texts[i] if task.contexts is None else (texts[i], task.contexts[i]) for i in keep]
            for name, values in kind.extract(items).items():
                arrays[name][keep] = values
        for i, t in enumerate(texts):
            meta[i]["text_input"] = t
            meta[i]["status_text"] = (
                "ok" if t else ("no words recognised" if kind.settings.text_source == "asr" else "empty transcript")
            )
