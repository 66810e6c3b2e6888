"""`emorec train`: preprocess, train each modality per fold, fuse on out-of-fold outputs, evaluate, report.

Run directory layout: see docs/train.md. Every finished unit (a model of a fold, a fold's fusion) leaves a
`done.json`; running the same command again skips finished units and resumes unfinished Lightning fits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emorec.config import ExperimentConfig, dump_config
from emorec.corpora.labels import LabelSet, get_label_set
from emorec.corpora.splits import Fold, make_folds
from emorec.training.distributed import is_global_zero, wait_for_file
from emorec.training.progress import RunProgress, run_progress
from emorec.training.unimodal import (
    ModalityData,
    fit_fusion,
    fit_unimodal,
    fusion_inputs,
    predict_fusion,
)

log = logging.getLogger("emorec.training.experiment")


@dataclass
class Experiment:
    cfg: ExperimentConfig
    out: Path
    label_set: LabelSet
    store: object
    data: ModalityData


OBSERVED = "observed"  # label_set: every label the corpus has, in sorted order (resolved once, into config.yaml)


def check_corpus(cfg: ExperimentConfig):
    """Read the corpus, resolve the label set and make the split, before anything is written: (config with the
    label set resolved, label set, corpus). ValueError when the label set keeps fewer than two classes or the
    split cannot be made."""
    from emorec.corpora.corpora import read_corpus

    pp = cfg.preprocess_config()
    corpus = read_corpus(pp.corpus, pp.root, **pp.corpus_options)
    if not corpus.utterances:
        raise ValueError(
            f"corpus {pp.corpus!r} at {pp.root}: no utterances found ({len(corpus.problems)} problems while "
            f"reading; `emorec data stats --corpus {pp.corpus} --root {pp.root}` lists them)"
        )
    if cfg.label_set == OBSERVED:  # resolved once, into config.yaml: evaluate and export see the same classes
        labels = sorted({u.label for u in corpus.utterances if u.label})
        cfg = cfg.model_copy(update={"label_set": {"name": OBSERVED, "classes": labels}})
    label_set = get_label_set(cfg.label_set)
    kept, dropped = label_set.apply(corpus.utterances)
    classes = sorted({u.label for u in kept})
    if len(classes) < 2:  # e.g. the default iemocap4 on another corpus: nothing, or one class, left to learn
        raise ValueError(
            f"label set {label_set.name} {list(label_set.classes)} keeps {len(kept)} utterances "
            f"of {cfg.corpus.name} in {len(classes)} class(es) {classes} and drops the labels {sorted(set(dropped))[:20]}; "
            f"set `label_set:` to the classes to learn (a built-in name, a YAML file, or a mapping with `classes:`)"
        )
    make_folds(kept, cfg.split)  # the split is feasible on this corpus
    return cfg, label_set, corpus


def prepare(cfg: ExperimentConfig, out: Path, workers: int = 1) -> Experiment:
    from emorec.preprocess.run import preprocess_utterances
    from emorec.preprocess.store import COMPLETE, FeatureStore

    cfg, label_set, corpus = check_corpus(cfg)
    pp = cfg.preprocess_config()
    if is_global_zero():
        out.mkdir(parents=True, exist_ok=True)
        dump_config(cfg, out / "config.yaml")
        store = preprocess_utterances(
            corpus.utterances, pp, workers=workers, store_dir=pp.store_dir(), reader_problems=len(corpus.problems)
        )
    else:  # the other processes of a distributed run read the store rank 0 builds
        wait_for_file(pp.store_dir() / COMPLETE)
        store = FeatureStore.open(pp.store_dir())
    return Experiment(cfg, out, label_set, store, ModalityData.from_store(store, label_set))


def write_json(path: Path, obj) -> None:
    if not is_global_zero():
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    tmp.replace(path)


def planned_fusions(cfg: ExperimentConfig, available) -> dict[str, list[str]]:
    """Fusion key -> modalities: `fusion.modalities` ("fusion") and each of `fusion.extra` ("audio_text", ...),
    over the modalities that have a model."""
    fusions: dict[str, list[str]] = {}
    if not cfg.fusion.enabled:
        return fusions
    main = [m for m in cfg.fusion.modalities if m in available]
    for mods in [cfg.fusion.modalities, *cfg.fusion.extra]:
        mods = [m for m in mods if m in available]
        if len(mods) >= 2:
            fusions["fusion" if mods == main else "_".join(mods)] = mods
    return fusions


def _test_metrics(data, probs: dict[str, pd.DataFrame], classes, y_train) -> dict:
    from emorec.training.metrics import classification_metrics

    return {
        key: classification_metrics(
            data.labels_of(df.utt_id), df[[f"p_{c}" for c in classes]].to_numpy().argmax(1), classes, y_train
        )
        for key, df in probs.items()
    }


def _fuse(exp: Experiment, fold_dir: Path, outs: dict, fusions: dict) -> tuple[dict, dict]:
    """Each fusion trained on the out-of-fold outputs: (test probabilities, utterances dropped per modality)."""
    cfg, data, classes = exp.cfg, exp.data, list(exp.label_set.classes)
    test_probs, drops = {}, {}
    for key, mods in fusions.items():
        inputs = {
            part: fusion_inputs(
                {m: getattr(outs[m], part) for m in mods}, mods, data.order, classes, cfg.fusion.missing
            )
            for part in ("oof", "val", "test")
        }
        model = fit_fusion(data, inputs["oof"], inputs["val"], cfg.fusion, fold_dir / key, classes, mods, seed=cfg.seed)
        probs = predict_fusion(model, inputs["test"])
        test_probs[key] = pd.DataFrame(
            {"utt_id": inputs["test"].utt_ids, **{f"p_{c}": probs[:, i] for i, c in enumerate(classes)}}
        )
        drops[key] = {m: int(n) for m, n in inputs["test"].dropped.items()}
        _unit_done()
    return test_probs, drops


def _unit_done() -> None:
    progress = run_progress()
    if progress is not None:
        progress.unit_done()


def _predictions(data, probs: dict[str, pd.DataFrame], classes) -> pd.DataFrame:
    rows = []
    for key, df in probs.items():
        d = df.copy()
        d.insert(1, "model", key)
        d.insert(2, "label", [classes[i] for i in data.labels_of(df.utt_id)])
        d.insert(3, "pred", [classes[i] for i in df[[f"p_{c}" for c in classes]].to_numpy().argmax(1)])
        rows.append(d)
    return pd.concat(rows, ignore_index=True)


def run_fold(exp: Experiment, fold: Fold) -> dict:
    """Train and evaluate every model of one fold; returns {model_key: metrics}."""
    cfg, data = exp.cfg, exp.data
    fold_dir = exp.out / "folds" / fold.name
    done = fold_dir / "done.json"
    if done.exists():
        for _ in range(len(cfg.enabled_models()) + len(planned_fusions(cfg, cfg.enabled_models()))):
            _unit_done()
        return json.loads(done.read_text())["metrics"]
    if is_global_zero():
        fold_dir.mkdir(parents=True, exist_ok=True)
    classes = list(exp.label_set.classes)
    outs = {}
    for modality, mcfg in cfg.enabled_models().items():
        outs[modality] = fit_unimodal(
            data,
            modality,
            mcfg,
            fold,
            fold_dir / modality,
            classes,
            crossfit_folds=cfg.fusion.crossfit_folds if cfg.fusion.enabled else 0,
            crossfit_epochs=cfg.fusion.crossfit_epochs,
            seed=cfg.seed,
        )
        _unit_done()
    test_probs = {m: o.test for m, o in outs.items()}
    fused, drops = _fuse(exp, fold_dir, outs, planned_fusions(cfg, outs))
    test_probs.update(fused)
    metrics = _test_metrics(data, test_probs, classes, data.labels_of(fold.train))
    if is_global_zero():
        _predictions(data, test_probs, classes).to_parquet(fold_dir / "predictions.parquet", index=False)
    write_json(done, {"metrics": metrics, "dropped": drops, "fold": fold.name})
    return metrics


def normalisation_statements(cfg) -> list[str]:
    """What per-speaker normalisation takes from the test side (it is stated beside the split's leakage)."""
    return [
        f"{m}: inputs standardised per speaker; each speaker's statistics, the test speakers' included, come "
        f"from all of that speaker's recordings in the corpus (labels unused)"
        for m, mc in cfg.models.items()
        if mc.enabled and mc.normalise == "speaker"
    ]


def run_experiment(cfg: ExperimentConfig, out: str | Path, *, workers: int = 1) -> dict:
    """Everything `emorec train` does; returns the content of metrics.json."""
    from emorec.training.metrics import summarise_folds
    from emorec.training.report import write_report

    if cfg.pooled:
        from emorec.training.pooled import run_pooled

        return run_pooled(cfg, out, workers=workers)
    out = Path(out)
    exp = prepare(cfg, out, workers=workers)
    folds = make_folds(exp.data.utterances, cfg.split)
    units = len(folds) * (len(cfg.enabled_models()) + len(planned_fusions(cfg, cfg.enabled_models())))
    per_fold = {}
    with RunProgress(units, out / "train.log"):
        for fold in folds:
            log.info("fold %s: %d train / %d val / %d test", fold.name, len(fold.train), len(fold.val), len(fold.test))
            per_fold[fold.name] = run_fold(exp, fold)

    metrics: dict = {
        "protocol": cfg.protocol or cfg.name,
        "experiment": cfg.name,
        "label_set": {"name": exp.label_set.name, "classes": list(exp.label_set.classes)},
        "split": {**cfg.split.model_dump(mode="json"), "folds": [f.name for f in folds]},
        "leakage": [f.leakage.statement for f in folds] + normalisation_statements(cfg),
        "speaker_independent": all(f.leakage.speaker_independent for f in folds),
        "utterances": len(exp.data.utterances),
        "dropped_by_label_set": exp.data.dropped,
    }
    keys = list(dict.fromkeys(k for m in per_fold.values() for k in m))
    for key in keys:
        results = [per_fold[f][key] for f in per_fold if key in per_fold[f]]
        metrics[key] = (
            results[0] | {"folds": {f: per_fold[f][key] for f in per_fold}}
            if len(results) == 1
            else summarise_folds(results)
        )
    metrics["curves"] = {
        key: [
            str(p.relative_to(out))
            for f in per_fold
            if (p := Path(out) / "folds" / f / key / "fit" / "metrics.csv").exists()
        ]
        for key in keys
    }
    write_json(Path(out) / "metrics.json", metrics)
    if is_global_zero():
        write_report(Path(out))
    return metrics
