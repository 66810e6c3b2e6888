"""The per-modality passes of a prediction: each runs one model over all segments of a recording (frames decoded
once, faces found, audio windows cut, texts cleaned) and fills each segment's probabilities."""

from __future__ import annotations

import time

import numpy as np

from emorec.inference.frames import decode_segment_frames
from emorec.inference.media import segment_samples

SILENCE_DBFS = -60.0  # a window whose loudest 50 ms stay below this holds no speech


def is_silent(samples: np.ndarray, sr: int = 16000, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when even the loudest 50 ms of the window stay below `threshold_dbfs` (digital or near silence)."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return True
    hop = max(1, int(0.05 * sr))
    n = max(1, len(x) // hop)
    power = np.square(x[: n * hop]).reshape(n, -1).mean(axis=1) if len(x) >= hop else np.array([np.square(x).mean()])
    return 10 * np.log10(float(power.max()) + 1e-20) < threshold_dbfs


class ModalityPasses:
    """Mixed into the Recognizer: needs `runners`, `side_finder` and `sample_rate`."""

    def _frame_probs(self, path, segments, speaker_side, require_face, per, sides, timings, warnings, track, boxes):
        runner = self.runners.get("frame")
        t = time.perf_counter()
        frames, err = decode_segment_frames(path, segments, runner)
        timings["decode"] = time.perf_counter() - t
        if err:
            warnings.append(err)
        t = time.perf_counter()
        if runner is not None and runner.kind.name == "faces":
            crops, idx, faceless = self._face_crops(
                runner, segments, frames, speaker_side, require_face, sides, track, boxes
            )
        else:
            crops, idx, faceless = self._half_crops(runner, segments, frames, speaker_side, require_face, sides)
        if faceless:
            warnings.append(f"{faceless} segment(s) without a detected face: frame model not used for them")
        timings["crops"] = time.perf_counter() - t
        if crops:
            for i, row in zip(idx, runner.run(crops, timings)):
                per[i]["frame"] = row
        return [got.preview if got is not None else None for got in frames]

    def _half_crops(self, runner, segments, frames, speaker_side, require_face, sides):
        """The training crop of each segment's frames; the side from the largest face (Haar) when not given."""
        crops, idx, faceless = [], [], 0
        for i, (seg, got) in enumerate(zip(segments, frames)):
            if got is None:
                continue
            sides[i], face = self.side_finder.resolve(got.preview, seg.side or speaker_side, look=require_face)
            if runner is None:
                continue
            c, found = runner.crops(got.model, sides[i])
            if require_face and (face is False or (found is not None and not all(found))):
                faceless += 1
                continue
            crops.append(c)
            idx.append(i)
        return crops, idx, faceless

    def _face_crops(self, runner, segments, frames, speaker_side, require_face, sides, track, boxes):
        """The active speaker's aligned face per segment (lip motion with the segment's audio energy)."""
        from emorec.vision import EnergyCurve

        crops, idx, faceless = [], [], 0
        for i, (seg, got) in enumerate(zip(segments, frames)):
            if got is None:
                continue
            side = seg.side or (speaker_side if speaker_side != "auto" else "full")
            y = segment_samples(track, seg.start, seg.end, i) if track is not None else None
            energy = (
                EnergyCurve.from_samples(y, self.sample_rate, start_time=seg.start)
                if y is not None and len(y)
                else None
            )
            crop = runner.kind.face_crop(got.model, side, got.times, energy)
            sides[i], boxes[i] = side, (list(crop.box) if crop.box else None)
            if require_face and not crop.found:
                faceless += 1
                continue
            crops.append(crop.image[None])
            idx.append(i)
        return crops, idx, faceless

    def _audio_probs(self, track, segments, per, timings, warnings) -> None:
        runner = self.runners["audio"]
        t = time.perf_counter()
        windows, idx, silent = [], [], 0
        for i, seg in enumerate(segments):
            w = segment_samples(track, seg.start, seg.end, i)
            if w is not None and is_silent(w):
                silent += 1  # silence is not an emotion: no voice label for it
            elif w is not None:
                windows.append(w)
                idx.append(i)
        if silent:
            warnings.append(
                f"{silent} segment(s) without sound (below {SILENCE_DBFS:g} dBFS): voice model not used for them"
            )
        timings["audio_windows"] = time.perf_counter() - t
        if windows:
            for i, row in zip(idx, runner.run(windows, warnings, timings)):
                per[i]["audio"] = row

    def _text_probs(self, segments, per, timings) -> None:
        runner = self.runners["text"]
        cleaned = [runner.clean(s.text) for s in segments]
        idx = [i for i, c in enumerate(cleaned) if c]  # empty after cleaning: no text input, as in training
        if idx:
            texts = [cleaned[i] for i in idx]
            for i, row in zip(idx, runner.run(texts, runner.contexts(texts), timings)):
                per[i]["text"] = row
