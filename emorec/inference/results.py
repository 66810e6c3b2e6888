"""What prediction returns: one `SegmentPrediction` per segment inside a `VideoResult`, and how it is saved."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class SegmentPrediction:
    start: float
    end: float
    label: str | None  # None when no modality could be used for this segment
    probs: dict[str, float]
    modalities: list[str]  # the inputs this prediction used, e.g. ["frame", "audio"]
    text: str | None = None
    side: str | None = None  # frame part the face crop came from: left / right / full
    model: str = ""  # what produced `probs`: a fusion key, "average", or a single modality
    per_modality: dict[str, dict[str, float]] = field(default_factory=dict)
    face_box: list[int] | None = None  # the speaker's face (x0, y0, x1, y1) in video pixels, when a face model found it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class VideoResult:
    path: str
    duration: float
    classes: list[str]
    segments: list[SegmentPrediction]
    has_video: bool = True
    has_audio: bool = True
    segmentation: str = ""  # subtitles / transcript / window / speech (vad) / asr (vad) / fallback-window / explicit
    language: str | None = None  # of the speech, when it was transcribed
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    middle_frames: list[np.ndarray | None] = field(default_factory=list, repr=False)  # RGB preview per segment
    frame_width: int = 0  # of the video, to place face boxes on the previews

    def to_frame(self):
        """pandas DataFrame, one row per segment: start, end, label, p_<class>..., modalities, model, side, text."""
        import pandas as pd

        rows = []
        for s in self.segments:
            row = {"start": round(s.start, 3), "end": round(s.end, 3), "label": s.label}
            row.update({f"p_{c}": round(float(s.probs.get(c, float("nan"))), 4) for c in self.classes})
            row.update(modalities="+".join(s.modalities), model=s.model, side=s.side, text=s.text)
            rows.append(row)
        cols = ["start", "end", "label", *(f"p_{c}" for c in self.classes), "modalities", "model", "side", "text"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "duration": round(self.duration, 3),
            "classes": list(self.classes),
            "has_video": self.has_video,
            "has_audio": self.has_audio,
            "segmentation": self.segmentation,
            "language": self.language,
            "warnings": list(self.warnings),
            "segments": [s.to_dict() for s in self.segments],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def timeline_png(self) -> bytes:
        from emorec.inference.timeline import timeline_png

        return timeline_png(
            [s for s in self.segments if s.label is not None], self.classes, self.duration, title=Path(self.path).name
        )

    def save(self, out_dir, stem: str | None = None, frames: bool = True) -> dict[str, Path]:
        """Write <stem>.json, <stem>.csv, <stem>_timeline.png and (frames=True) <stem>_frames/NNN_<label>.png."""
        from emorec.inference.timeline import save_timeline

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = stem or Path(self.path).stem
        written = {"json": out / f"{stem}.json", "csv": out / f"{stem}.csv", "timeline": out / f"{stem}_timeline.png"}
        written["json"].write_text(self.to_json() + "\n")
        self.to_frame().to_csv(written["csv"], index=False)
        save_timeline(
            written["timeline"],
            [s for s in self.segments if s.label is not None],
            self.classes,
            self.duration,
            title=Path(self.path).name,
        )
        if frames and any(f is not None for f in self.middle_frames):
            fdir = out / f"{stem}_frames"
            fdir.mkdir(exist_ok=True)
            for i, (seg, img) in enumerate(zip(self.segments, self.middle_frames)):
                if img is not None:
                    _write_labelled_frame(
                        fdir / f"{i:03d}_{seg.start:07.2f}s_{seg.label or 'none'}.png",
                        img,
                        seg,
                        img.shape[1] / self.frame_width if self.frame_width else 1.0,
                    )
            written["frames"] = fdir
        return written


def _write_labelled_frame(path: Path, rgb: np.ndarray, seg: SegmentPrediction, scale_box: float = 1.0) -> None:
    """The preview with the label, the speaker's half and (when a face model found it) the face box drawn."""
    import cv2

    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    scale = max(0.4, min(w, h) / 500)
    text = f"{seg.label or 'none'} {max(seg.probs.values(), default=0):.2f}  {seg.start:.1f}-{seg.end:.1f}s"
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(img, (0, 0), (tw + 12, th + base + 12), (0, 0, 0), -1)
    cv2.putText(img, text, (6, th + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    if seg.side in ("left", "right"):
        x0 = 0 if seg.side == "left" else w // 2
        cv2.rectangle(img, (x0 + 1, 1), (x0 + w // 2 - 2, h - 2), (0, 200, 255), 2)
    if seg.face_box:
        x0, y0, x1, y1 = (int(round(v * scale_box)) for v in seg.face_box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (255, 0, 255), 2)  # magenta: visible on green screens and skin
    cv2.imwrite(str(path), img)
