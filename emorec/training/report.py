"""HTML report of a run: protocol, split and leakage statement, label set, results table, plots.

`write_report(run_dir)` reads `run_dir/metrics.json` and writes, next to it, `confusion_<model>.png` per
model, `curves_<model>.png` per model with training logs, and `report.html` (self-contained: the images are
embedded as base64).

metrics.json: {"protocol": str, "label_set": {"name", "classes"} | str, "split": {...},
"leakage": str | [str], "<model>": {accuracy, unweighted_accuracy, macro_f1, weighted_f1, majority_baseline,
chance, n_test, confusion, per_class, [<key>_std], [folds]}, ..., "curves": {model: [csv, ...]} (optional)}.
Models are the keys frame, audio, text, fusion, audio_text, then any other key holding an `accuracy`.
Training curves come from `curves` (paths relative to run_dir or absolute) or else from the `metrics.csv`
files found under `run_dir/<model>/` (Lightning logs `logs/version_*/metrics.csv` only when no merged
`metrics.csv` is there).
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

KNOWN_MODELS = {
    "frame": "Frame (face)",
    "audio": "Audio (speech)",
    "text": "Text (transcript)",
    "fusion": "Fusion (frame + audio + text)",
    "audio_text": "Fusion (audio + text)",
}
COLUMNS = [
    ("accuracy", "WA"),
    ("unweighted_accuracy", "UA"),
    ("macro_f1", "Macro-F1"),
    ("weighted_f1", "Weighted-F1"),
    ("majority_baseline", "Majority baseline"),
    ("chance", "Chance"),
]


def model_keys(metrics: dict) -> list[str]:
    known = [k for k in KNOWN_MODELS if isinstance(metrics.get(k), dict)]
    extra = sorted(k for k, v in metrics.items() if k not in KNOWN_MODELS and isinstance(v, dict) and "accuracy" in v)
    return known + extra


def _classes(metrics: dict, m: dict) -> list[str]:
    if m.get("classes"):
        return [str(c) for c in m["classes"]]
    ls = metrics.get("label_set")
    if isinstance(ls, dict) and ls.get("classes"):
        return [str(c) for c in ls["classes"]]
    if isinstance(m.get("per_class"), dict):
        return list(m["per_class"])
    return [str(i) for i in range(len(m.get("confusion", [])))]


def plot_confusion(confusion, classes: list[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix (recall per true class) with the counts written in each cell."""
    conf = np.asarray(confusion, dtype=float)
    rows = conf.sum(axis=1, keepdims=True)
    norm = np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)
    size = max(3.5, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(conf.shape[0]):
        for j in range(conf.shape[1]):
            ax.text(
                j,
                i,
                f"{int(conf[i, j])}\n{norm[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _epoch_table(csv: Path) -> pd.DataFrame | None:
    try:
        df = pd.read_csv(csv)
    except Exception:
        return None
    if "epoch" not in df.columns or df.empty:
        return None
    return df.dropna(subset=["epoch"]).groupby("epoch").last().reset_index()


def plot_curves(csvs: list[Path], title: str, path: Path) -> Path | None:
    """Loss (train/val) and validation WA / UA / weighted F1 per epoch; one line per CSV (e.g. per fold)."""
    tables = [(c, t) for c in csvs if (t := _epoch_table(c)) is not None]
    if not tables:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (_csv, t) in enumerate(tables):
        tag = f" #{i + 1}" if len(tables) > 1 else ""
        color = f"C{i % 10}"
        for col, style in (("train_loss", "-"), ("val_loss", "--")):
            if col in t:
                ax1.plot(t["epoch"], t[col], style, color=color, label=f"{col}{tag}")
        for col, style in (("val_acc", "-"), ("val_ua", "--"), ("val_wf1", ":")):
            if col in t:
                ax2.plot(t["epoch"], t[col], style, color=color, label=f"{col}{tag}")
    ax1.set_title(f"{title}: loss")
    ax2.set_title(f"{title}: validation WA / UA / weighted F1")
    for ax in (ax1, ax2):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, ncol=2 if len(tables) > 2 else 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def find_curve_csvs(run_dir: Path, metrics: dict, model: str) -> list[Path]:
    given = (metrics.get("curves") or {}).get(model)
    if given:
        paths = [p if Path(p).is_absolute() else run_dir / p for p in ([given] if isinstance(given, str) else given)]
        return [Path(p) for p in paths if Path(p).is_file()]
    base = run_dir / model
    if not base.is_dir():
        return []
    found = sorted(base.rglob("metrics.csv"))
    merged = [p for p in found if not re.fullmatch(r"version_\d+", p.parent.name)]
    return merged or found


def _img(path: Path | None) -> str:
    if path is None or not Path(path).is_file():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def _fmt(m: dict, key: str) -> str:
    v = m.get(key)
    if v is None:
        return "–"
    s = f"{100 * float(v):.1f}"
    std = None if key == "chance" else m.get(f"{key}_std")
    return s + (f" ± {100 * float(std):.1f}" if std is not None else "")


def _as_lines(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return [str(v) for v in value]


def _split_html(split) -> str:
    if isinstance(split, dict):
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>"
            for k, v in split.items()
        )
        return f"<table class='kv'>{rows}</table>"
    return f"<p>{html.escape(str(split))}</p>" if split else "<p>–</p>"


def _per_class_html(m: dict) -> str:
    pc = m.get("per_class")
    if not isinstance(pc, dict) or not pc:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{100 * v.get('precision', 0):.1f}</td><td>{100 * v.get('recall', 0):.1f}</td>"
        f"<td>{100 * v.get('f1', 0):.1f}</td><td>{v.get('support', '')}</td></tr>"
        for c, v in pc.items()
    )
    return (
        "<details><summary>per-class scores</summary><table><tr><th>class</th><th>precision</th><th>recall</th>"
        f"<th>F1</th><th>support</th></tr>{rows}</table></details>"
    )


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child,table.kv th,table.kv td{text-align:left}.leak{background:#fff4d6;border-left:6px solid #e0a800;padding:.6em 1em;margin:1em 0}
.note{color:#555;font-size:.9em}img{max-width:100%;margin:.4em 0}section.model{border-top:1px solid #ddd;margin-top:1.4em}"""


def write_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    mpath = run_dir / "metrics.json"
    if not mpath.is_file():
        raise FileNotFoundError(f"write_report: {mpath} not found (a run writes it after evaluation)")
    try:
        metrics = json.loads(mpath.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"write_report: {mpath} line {e.lineno}: invalid JSON ({e.msg})") from e
    models = model_keys(metrics)

    label_set = metrics.get("label_set")
    if isinstance(label_set, dict):
        ls_html = f"<b>{html.escape(str(label_set.get('name', '')))}</b>: " + html.escape(
            ", ".join(str(c) for c in label_set.get("classes", []))
        )
    else:
        ls_html = html.escape(str(label_set or "–"))
    leakage = _as_lines(metrics.get("leakage"))
    leak_html = "".join(f"<p>{html.escape(s)}</p>" for s in leakage) or "<p>No leakage statement was recorded.</p>"

    head = "".join(f"<th>{h}</th>" for _, h in COLUMNS)
    rows, sections = [], []
    for key in models:
        m, name = metrics[key], KNOWN_MODELS.get(key, key)
        folds = f" ({len(m['folds'])} folds)" if isinstance(m.get("folds"), list) and m["folds"] else ""
        folds += f" (mean ± std of {len(m['seeds'])} seeds)" if isinstance(m.get("seeds"), dict) else ""
        cells = "".join(f"<td>{_fmt(m, k)}</td>" for k, _ in COLUMNS)
        rows.append(f"<tr><td>{html.escape(name)}{folds}</td>{cells}<td>{m.get('n_test', '–')}</td></tr>")
        conf_png = None
        if m.get("confusion"):
            conf_png = plot_confusion(m["confusion"], _classes(metrics, m), name, run_dir / f"confusion_{key}.png")
        curves_png = plot_curves(find_curve_csvs(run_dir, metrics, key), name, run_dir / f"curves_{key}.png")
        sections.append(
            f"<section class='model'><h3>{html.escape(name)}</h3>{_img(conf_png)}{_img(curves_png)}"
            f"{_per_class_html(m)}</section>"
        )

    table = (
        f"<table><tr><th>model</th>{head}<th>n test</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>No model results in metrics.json.</p>"
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>emorec report: {html.escape(run_dir.name)}</title>
<style>{CSS}</style></head><body>
<h1>Emotion recognition report</h1><p class="note">{html.escape(str(run_dir))}</p>
<h2>Protocol</h2><p>{html.escape(str(metrics.get("protocol", "–")))}</p>
<h2>Split</h2>{_split_html(metrics.get("split"))}
<div class="leak"><h3>Leakage statement</h3>{leak_html}</div>
<h2>Label set</h2><p>{ls_html}</p>
<h2>Results</h2>{table}
<p class="note">Percentages on the test utterances. WA = accuracy, UA = mean per-class recall; ± is the standard
deviation over folds. Majority baseline = always predicting the most frequent training label.</p>
<h2>Per model</h2>{"".join(sections)}
</body></html>"""
    out = run_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
