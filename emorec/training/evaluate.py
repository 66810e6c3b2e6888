"""`emorec evaluate`: apply a finished run's models to another corpus root or split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from emorec.config import CorpusConfig, ExperimentConfig
from emorec.corpora.labels import get_label_set
from emorec.corpora.splits import SplitSpec, make_folds
from emorec.inputs import MODALITIES, input_from_meta
from emorec.training.unimodal import (
    ModalityData,
    dataset_for,
    fusion_inputs,
    load_store,
    probs_frame,
    speaker_row_stats,
)


def load_run_config(run_dir: Path) -> ExperimentConfig:
    path = run_dir / "config.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.yaml)")
    from emorec.corpora.textfile import read_yaml

    return ExperimentConfig(**read_yaml(path))


def predict_fold(run_dir: Path, fold: str, data: ModalityData, test_ids: list[str]) -> dict[str, pd.DataFrame]:
    """Per-model test probabilities of one fold's saved models (unimodal first, then fusions)."""
    from emorec.models.saved import load_model_dir
    from emorec.training.fit import predict_proba
    from emorec.training.unimodal import predict_fusion

    fold_dir = run_dir / "folds" / fold
    classes = list(data.label_set.classes)
    probs: dict[str, pd.DataFrame] = {}
    preprocess = data.store.config.model_dump(mode="json")  # for model.json files of emorec 0.1
    for key in MODALITIES:
        if not (fold_dir / key / "model").exists():
            continue
        model, meta = load_model_dir(fold_dir / key / "model", preprocess)
        ids = data.ok_ids(key, test_ids)
        kind = input_from_meta(meta.input_meta)
        # per-speaker normalisation: each evaluated speaker's own statistics
        row_stats = speaker_row_stats(data, kind, data.ok_ids(key, data.order)) if kind.normalise == "speaker" else None
        p = predict_proba(model, dataset_for(data, kind, ids, row_stats)) if ids else np.zeros((0, len(classes)))
        probs[key] = probs_frame(ids, p, classes)
    for sub in sorted(p for p in fold_dir.iterdir() if p.is_dir() and p.name not in MODALITIES):
        if not (sub / "model" / "model.json").exists():
            continue
        model, meta = load_model_dir(sub / "model")
        mods = meta.fusion_modalities
        if not all(m in probs for m in mods):
            continue
        order = [i for i in data.order if i in set(test_ids)]
        aligned = fusion_inputs(probs, mods, order, classes, "drop")
        probs[sub.name] = probs_frame(aligned.utt_ids, predict_fusion(model, aligned), classes)
    return probs


def evaluate_run(
    run_dir: str | Path,
    corpus: str,
    root: str,
    *,
    split: str = "all",
    out: str | Path | None = None,
    corpus_options: dict | None = None,
    workers: int = 1,
    text_from: str = "transcript",
    language: str | None = None,
) -> dict:
    """The run's models on another corpus root or split. `text_from: asr` gives the text model Whisper's words
    for each utterance's audio instead of the transcript (`language`: e.g. "en"; None detects it)."""
    from emorec.training.metrics import summarise_folds
    from emorec.training.report import write_report

    if text_from not in ("transcript", "asr"):
        raise ValueError(f"text_from must be transcript or asr, got {text_from!r}")
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    if cfg.pooled:
        raise ValueError(
            f"{run_dir}: its recognisers were trained on corpora of their own; evaluate one of them "
            f"through its own run, or export the bundle and predict"
        )
    folds_trained = (
        sorted(p.name for p in (run_dir / "folds").iterdir() if p.is_dir()) if (run_dir / "folds").exists() else []
    )
    if not folds_trained:
        raise FileNotFoundError(f"{run_dir} holds no trained folds (folds/<name>/)")
    preprocess = dict(cfg.preprocess or {})
    if text_from == "asr":
        preprocess.update(text_source="asr", asr_language=language)
    corpus_cfg = CorpusConfig(name=corpus, root=root, options=corpus_options or {})
    ecfg = cfg.model_copy(update={"corpus": corpus_cfg, "preprocess": preprocess})
    label_set = get_label_set(cfg.label_set)
    data = ModalityData.from_store(load_store(ecfg.preprocess_config(), workers=workers), label_set)
    tests = _test_sets(cfg, data, split, folds_trained, root)
    per_fold, rows = _score(run_dir, tests, data, list(label_set.classes))
    out = Path(out) if out else run_dir / f"eval-{corpus}-{split}"
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        "protocol": f"evaluation of {run_dir} on {corpus} at {root} (split: {split})"
        + ("; text: Whisper's words for each utterance's audio, not the transcript" if text_from == "asr" else ""),
        "experiment": cfg.name,
        "label_set": {"name": label_set.name, "classes": list(label_set.classes)},
        "split": {"kind": split, "folds": list(tests)},
        "leakage": [f"{f}: {s}" for f, (_, s) in tests.items()],
        "utterances": len(data.utterances),
    }
    for key in dict.fromkeys(k for m in per_fold.values() for k in m):
        res = [per_fold[f][key] for f in per_fold if key in per_fold[f]]
        metrics[key] = res[0] if len(res) == 1 else summarise_folds(res)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    if rows:
        pd.concat(rows, ignore_index=True).to_parquet(out / "predictions.parquet", index=False)
    write_report(out)
    return metrics


def _test_sets(cfg, data, split: str, folds_trained: list[str], root) -> dict[str, tuple[list[str], str]]:
    """Fold name -> (test utterance ids, leakage statement) on the evaluated corpus."""
    if split == "all":
        return {f: (list(data.order), "every utterance of the evaluated root") for f in folds_trained}
    spec = cfg.split if split == "config" else SplitSpec(kind=split)
    tests = {
        f.name: (f.test, f.leakage.statement) for f in make_folds(data.utterances, spec) if f.name in folds_trained
    }
    if not tests:
        raise ValueError(f"split {split!r} on {root} has no fold named like the run's folds {folds_trained}")
    return tests


def _score(run_dir: Path, tests: dict, data, classes: list[str]):
    from emorec.training.metrics import classification_metrics

    per_fold, rows = {}, []
    for fold, (test_ids, _) in tests.items():
        per_fold[fold] = {}
        for key, df in predict_fold(run_dir, fold, data, test_ids).items():
            if len(df):
                pred = df[[f"p_{c}" for c in classes]].to_numpy().argmax(1)
                per_fold[fold][key] = classification_metrics(data.labels_of(df.utt_id), pred, classes)
                rows.append(df.assign(fold=fold, model=key, pred=[classes[i] for i in pred]))
    return per_fold, rows
