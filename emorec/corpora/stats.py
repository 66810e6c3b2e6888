"""Counts of a read corpus: labels, groups (IEMOCAP sessions, actors, ...), problems and optional split sizes."""

from __future__ import annotations

from collections import Counter

from emorec.corpora.labels import LabelSet
from emorec.corpora.records import CorpusData
from emorec.corpora.splits import SplitSpec, make_folds, natural_sorted


def corpus_stats(data: CorpusData, label_set: LabelSet | None = None, split: SplitSpec | None = None) -> dict:
    """A JSON-ready summary; with a label set, utterances outside it are dropped and counted in `dropped`."""
    utterances = data.utterances
    dropped: Counter = Counter()
    if label_set is not None:
        utterances, dropped = label_set.apply(utterances)
    labels = Counter(u.label for u in utterances)
    if label_set is not None:
        by_label = {c: labels.get(c, 0) for c in label_set.classes}
    else:
        by_label = dict(sorted(labels.items(), key=lambda kv: (-kv[1], kv[0])))
    groups = Counter(u.group for u in utterances)
    out = {
        "corpus": data.corpus,
        "label_set": label_set.name if label_set is not None else None,
        "utterances": len(utterances),
        "by_label": by_label,
        "by_session": {g: groups[g] for g in natural_sorted(groups)},
        "problems": [{"file": p.file, "line": p.line, "reason": p.reason} for p in data.problems],
    }
    if label_set is not None:
        out["dropped"] = dict(sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0])))
    if split is not None:
        out["split"] = {
            "spec": split.model_dump(),
            "folds": [
                {
                    "name": f.name,
                    "train": len(f.train),
                    "val": len(f.val),
                    "test": len(f.test),
                    "speaker_independent": f.leakage.speaker_independent,
                    "shared_speakers": f.leakage.shared_speakers,
                    "shared_scripts": f.leakage.shared_scripts,
                    "statement": f.leakage.statement,
                }
                for f in make_folds(utterances, split)
            ],
        }
    return out


def format_stats(stats: dict, per_reason: int = 2) -> str:
    """A readable text report of `corpus_stats` output; a few example problems of each kind."""
    lines = [
        f"corpus {stats['corpus']}  label set {stats['label_set'] or '(corpus codes)'}  "
        f"utterances {stats['utterances']}",
        "",
        "label      count",
    ]
    lines += [f"{k:<10} {v:>5}" for k, v in stats["by_label"].items()]
    if stats.get("dropped"):
        lines.append("dropped    " + ", ".join(f"{k} {v}" for k, v in stats["dropped"].items()))
    lines += ["", "group      count"] + [f"{k:<10} {v:>5}" for k, v in stats["by_session"].items()]
    problems = stats["problems"]
    lines += ["", f"problems   {len(problems)}"]
    by_reason: dict[str, list[dict]] = {}
    for p in problems:
        by_reason.setdefault(p["reason"].split(":")[0], []).append(p)
    for reason, items in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(items):>6}  {reason}")
        for p in items[:per_reason]:
            where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
            lines.append(f"            {where}: {p['reason']}")
        if len(items) > per_reason:
            lines.append(f"            ... {len(items) - per_reason} more (--json lists all)")
    if "split" in stats:
        lines += ["", f"split {stats['split']['spec']['kind']}"]
        for f in stats["split"]["folds"]:
            lines.append(f"  {f['name']:<12} train {f['train']:>5}  val {f['val']:>5}  test {f['test']:>5}")
            lines.append(f"    {f['statement']}")
    return "\n".join(lines)
