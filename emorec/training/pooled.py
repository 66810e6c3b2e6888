"""Experiments whose recognisers come from different corpora (e.g. faces from face photographs, voice from acted
speech, words from TV dialogue): each model is trained and tested on its own corpus and split, calibrated on its
own validation data (temperature scaling), and the fusion is weighted log-linear pooling of the calibrated
outputs. Run layout: one fold, `folds/pooled/<modality>/` per model and `folds/pooled/fusion/` (the pool), so
that `emorec export` makes one bundle of it."""

from __future__ import annotations

import json
from pathlib import Path

from emorec.config import ExperimentConfig, dump_config
from emorec.corpora.splits import make_folds
from emorec.fusion.calibration import fit_temperature, nll
from emorec.models import get_model
from emorec.models.saved import ModelMeta, save_model_dir
from emorec.training.distributed import is_global_zero
from emorec.training.progress import RunProgress
from emorec.training.unimodal import fit_unimodal

FOLD = "pooled"


def _train_one(cfg: ExperimentConfig, key: str, out: Path, workers: int) -> dict:
    """One recogniser on its own corpus: its metrics, validation temperature and leakage statement."""
    from emorec.training.experiment import _test_metrics, prepare, write_json

    sub = cfg.model_experiment(key)
    exp = prepare(sub, out / "corpora" / key, workers=workers)
    folds = make_folds(exp.data.utterances, sub.split)
    if len(folds) != 1:
        raise ValueError(
            f"models.{key}: a pooled experiment trains one model per recogniser; its split makes "
            f"{len(folds)} folds (use a hold-out split: session, official, random)"
        )
    fold = folds[0]
    classes = list(exp.label_set.classes)
    outs = fit_unimodal(
        exp.data, key, sub.models[key], fold, out / "folds" / FOLD / key, classes, crossfit_folds=0, seed=cfg.seed
    )
    y_val = exp.data.labels_of(outs.val.utt_id)
    p_val = outs.val[[f"p_{c}" for c in classes]].to_numpy()
    t = fit_temperature(p_val, y_val)
    metrics = _test_metrics(exp.data, {key: outs.test}, classes, exp.data.labels_of(fold.train))[key]
    metrics.update(
        corpus=sub.corpus.name, temperature=t, val_nll=nll(p_val, y_val, 1.0), val_nll_calibrated=nll(p_val, y_val, t)
    )
    write_json(out / "folds" / FOLD / key / "calibration.json", {"temperature": t, "val_n": int(len(y_val))})
    return {
        "metrics": metrics,
        "temperature": t,
        "leakage": f"{key} ({sub.corpus.name}): {fold.leakage.statement}",
        "speaker_independent": fold.leakage.speaker_independent,
        "classes": classes,
    }


def _save_pool(cfg: ExperimentConfig, out: Path, trained: dict[str, dict]) -> dict:
    modalities = list(trained)
    temperatures = [trained[m]["temperature"] for m in modalities]
    weights = [float(cfg.fusion.weights.get(m, 1.0)) for m in modalities]
    classes = next(iter(trained.values()))["classes"]
    kwargs = {"num_modalities": len(modalities), "temperatures": temperatures, "modality_weights": weights}
    meta = ModelMeta(
        name="log_linear_pool",
        modality="fusion",
        num_classes=len(classes),
        kwargs=kwargs,
        classes=classes,
        input={"modalities": modalities},
    )
    if is_global_zero():
        save_model_dir(
            get_model("log_linear_pool", len(classes), **kwargs), out / "folds" / FOLD / "fusion" / "model", meta
        )
    return {
        "method": "log-linear pooling of temperature-calibrated recognisers (no aligned multimodal test data: "
        "not evaluated as a whole)",
        "modalities": modalities,
        "temperatures": temperatures,
        "weights": weights,
    }


def run_pooled(cfg: ExperimentConfig, out: str | Path, *, workers: int = 1) -> dict:
    """Everything `emorec train` does for an experiment whose recognisers have corpora of their own."""
    from emorec.training.experiment import check_corpus, write_json
    from emorec.training.report import write_report

    out = Path(out)
    for key in cfg.enabled_models():  # every corpus, label set and split is checked before any training
        check_corpus(cfg.model_experiment(key))
    if is_global_zero():
        out.mkdir(parents=True, exist_ok=True)
        dump_config(cfg, out / "config.yaml")
    trained = {}
    with RunProgress(len(cfg.enabled_models()) + int(cfg.fusion.enabled), out / "train.log") as progress:
        for key in cfg.enabled_models():
            trained[key] = _train_one(cfg, key, out, workers)
            progress.unit_done()
        fusion = _save_pool(cfg, out, trained) if cfg.fusion.enabled and len(trained) >= 2 else None
        progress.unit_done()
    metrics: dict = {
        "protocol": cfg.protocol or cfg.name,
        "experiment": cfg.name,
        "label_set": {
            "name": str(cfg.label_set if isinstance(cfg.label_set, str) else cfg.label_set.get("name")),
            "classes": next(iter(trained.values()))["classes"],
        },
        "split": {"kind": "per corpus", "folds": [FOLD]},
        "leakage": [t["leakage"] for t in trained.values()],
        "speaker_independent": all(t["speaker_independent"] for t in trained.values()),
        **{k: t["metrics"] for k, t in trained.items()},
    }
    if fusion is not None:
        metrics["pooling"] = fusion
    write_json(out / "metrics.json", metrics)
    if is_global_zero():
        (out / "folds" / FOLD / "done.json").write_text(json.dumps({"fold": FOLD}))
        write_report(out)
    return metrics
