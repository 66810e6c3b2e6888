"""Build an `IEMOCAP_full_release` text tree (EmoEvaluation + transcriptions, no media) from the label table.

The table (`df_iemocap.csv`: start_time,end_time,wav_file,emotion,val,act,dom) holds the real ids and times;
evaluator lines and transcript text are made up but written in the real files' layout.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

CATEGORY_NAMES = {
    "neu": "Neutral",
    "hap": "Happiness",
    "sad": "Sadness",
    "ang": "Anger",
    "fru": "Frustration",
    "exc": "Excited",
    "sur": "Surprise",
    "fea": "Fear",
    "dis": "Disgust",
    "oth": "Other",
    "xxx": "Other",
}
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"


def _dialog_of(utt_id: str) -> str:
    return utt_id.rsplit("_", 1)[0]


def _block(row: dict, i: int) -> list[str]:
    utt, code = row["wav_file"], row["emotion"]
    start, end = float(row["start_time"]), float(row["end_time"])
    v, a, d = (float(row[k]) for k in ("val", "act", "dom"))
    name = CATEGORY_NAMES[code]
    self_eval = "C-" + utt.rsplit("_", 1)[1][0] + "1"
    second = "Neutral" if code == "xxx" else name  # 'xxx' = evaluators disagree
    lines = [
        f"[{start:.4f} - {end:.4f}]\t{utt}\t{code}\t[{v:.4f}, {a:.4f}, {d:.4f}]",
        f"C-E{1 + i % 3}:\t{name};\t()",
        f"C-E{4 + i % 3}:\t{second}; Other;\t(made up)" if i % 5 == 0 else f"C-E{4 + i % 3}:\t{second};\t()",
        f"{self_eval}:\t;\t()" if i % 7 == 0 else f"{self_eval}:\t{name};\t()",
        f"A-E{1 + i % 3}:\tval {round(v)}; act {round(a)}; dom  {round(d)};\t()",
        "",
    ]
    return lines


def write_tree_from_table(csv_path: str | Path, out_root: str | Path) -> Path:
    """Write SessionN/dialog/{EmoEvaluation,transcriptions}/<dialog>.txt; return the release folder."""
    rows_by_dialog: dict[str, list[dict]] = defaultdict(list)
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            rows_by_dialog[_dialog_of(row["wav_file"])].append(row)
    release = Path(out_root) / "IEMOCAP_full_release"
    for dialog, rows in rows_by_dialog.items():
        dialog_dir = release / f"Session{int(dialog[3:5])}" / "dialog"
        (dialog_dir / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
        (dialog_dir / "transcriptions").mkdir(parents=True, exist_ok=True)
        # F turns first, then M turns, each in turn order (as in the real files)
        ordered = sorted(rows, key=lambda r: (r["wav_file"].rsplit("_", 1)[1][0], r["wav_file"]))
        eval_lines = [HEADER, ""]
        for i, row in enumerate(ordered):
            eval_lines += _block(row, i)
        (dialog_dir / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(eval_lines))
        by_time = sorted(rows, key=lambda r: float(r["start_time"]))
        tr_lines = [
            f"{r['wav_file']} [{float(r['start_time']):08.4f}-{float(r['end_time']):08.4f}]: "
            f"Line {i} of {dialog}, said {r['emotion']}."
            for i, r in enumerate(by_time)
        ]
        last = float(by_time[-1]["end_time"])
        tr_lines.append(f"{dialog}_MXX0 [{last + 1:08.4f}-{last + 2:08.4f}]: [LAUGHTER]")
        (dialog_dir / "transcriptions" / f"{dialog}.txt").write_text("\n".join(tr_lines) + "\n")
    return release
