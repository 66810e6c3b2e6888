"""Glue between the feature store, the models and the fusion, shared by training and evaluation."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from emorec.corpora.labels import LabelSet
from emorec.corpora.records import Utterance
from emorec.inputs import InputKind
from emorec.models.saved import ModelMeta
from emorec.training.distributed import barrier, is_global_zero


def load_store(pp_config, workers: int = 1):
    """The feature store for a preprocessing config, built (or finished) when needed."""
    from emorec.preprocess.run import preprocess

    return preprocess(pp_config, workers=workers)


def _clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def manifest_utterances(man: pd.DataFrame) -> list[Utterance]:
    names = {f.name for f in fields(Utterance)}
    out = []
    for rec in man.to_dict("records"):
        kw = {k: _clean(v) for k, v in rec.items() if k in names}
        for key in (
            "text",
            "speaker",
            "group",
            "dialog",
            "gender",
            "script",
            "split",
            "video_path",
            "audio_path",
            "sentence_wav",
        ):
            if kw.get(key) is None:
                kw[key] = ""
        kw["evaluators"] = list(kw.get("evaluators") or [])
        out.append(Utterance(**kw))
    return out


@dataclass
class ModalityData:
    """The utterances of a store inside a label set, with their rows, class indices and speakers."""

    store: object
    label_set: LabelSet
    utterances: list[Utterance]
    row: dict[str, int]
    y: dict[str, int]
    order: list[str]
    dropped: dict[str, int]

    @classmethod
    def from_store(cls, store, label_set: LabelSet) -> ModalityData:
        man = store.manifest
        utts = manifest_utterances(man)
        kept, dropped = label_set.apply(utts)
        row = {u: i for i, u in enumerate(man["utt_id"])}
        y = {u.utt_id: label_set.classes.index(u.label) for u in kept}
        return cls(store, label_set, kept, row, y, [u.utt_id for u in kept], dict(Counter(dropped)))

    def labels_of(self, ids) -> np.ndarray:
        return np.array([self.y[i] for i in ids], dtype=np.int64)

    def rows_of(self, ids) -> np.ndarray:
        return np.array([self.row[i] for i in ids], dtype=np.int64)

    def ok_ids(self, modality: str, ids) -> list[str]:
        ok = self.store.ok(modality)
        return [i for i in ids if ok[self.row[i]]]

    def speakers_of(self, ids) -> list[str]:
        spk = {u.utt_id: u.speaker or u.utt_id for u in self.utterances}
        return [spk[i] for i in ids]


@dataclass
class UnimodalOutputs:
    test: pd.DataFrame
    val: pd.DataFrame
    oof: pd.DataFrame


def probs_frame(ids, probs: np.ndarray, classes) -> pd.DataFrame:
    return pd.DataFrame({"utt_id": list(ids), **{f"p_{c}": probs[:, i] for i, c in enumerate(classes)}})


def model_input(data: ModalityData, mcfg) -> InputKind:
    """The input kind a model config reads, with the store's settings and the model's options."""
    return data.store.config.input(mcfg.reads, mcfg.input_options())


def dataset_for(data: ModalityData, kind: InputKind, ids, row_stats: dict | None = None, augment=None):
    from emorec.training.datasets import StoreDataset

    labels = data.labels_of(ids) if all(i in data.y for i in ids) else None
    return StoreDataset(data.store, data.rows_of(ids), labels, kind, row_stats=row_stats, augment=augment)


def fitted_input(data: ModalityData, kind: InputKind, train_ids) -> tuple[InputKind, dict | None]:
    """The kind with the statistics of the training rows, and for `normalise: speaker` the statistics each row
    is standardised with: its speaker's own, for every speaker in `data` (test speakers' unlabelled recordings
    included). A speaker-normalised kind keeps the training rows' statistics (in the per-speaker shape) for
    prediction on a single utterance, where no speaker statistics can be had."""
    kind = kind.with_stats(kind.fit_stats(data.store, data.rows_of(train_ids)))
    if kind.normalise == "speaker":
        return kind, speaker_row_stats(data, kind, data.ok_ids(kind.modality, data.order))
    return kind, None


def speaker_row_stats(data: ModalityData, kind: InputKind, ids) -> dict:
    from emorec.training.datasets import speaker_stats

    by_speaker: dict[str, list[int]] = {}
    for i, spk in zip(ids, data.speakers_of(ids)):
        by_speaker.setdefault(spk, []).append(data.row[i])
    return speaker_stats(data.store, kind, {k: np.asarray(v) for k, v in by_speaker.items()})


def _train_predict(data, kind, row_stats, mcfg, train_ids, val_ids, predict_sets, work_dir, seed, classes):
    import lightning as L

    from emorec.models import get_model_checked
    from emorec.models.ensemble import Ensemble
    from emorec.training.fit import fit, load_best, predict_proba

    ds_tr = dataset_for(data, kind, train_ids, row_stats, augment=mcfg.augment)
    ds_val = dataset_for(data, kind, val_ids, row_stats)
    members, results = [], []
    for k in range(mcfg.ensemble):  # member k: seed + k, its own fit folder (each resumes on its own)
        L.seed_everything(seed + k, verbose=False)
        member = get_model_checked(mcfg.arch, len(classes), **mcfg.kwargs)
        fit_cfg = mcfg.fit.model_copy(update={"seed": seed + k})
        res = fit(
            member,
            ds_tr,
            ds_val,
            len(classes),
            fit_cfg,
            work_dir if k == 0 else work_dir.with_name(f"{work_dir.name}_m{k}"),
        )
        members.append(load_best(member, res.best_ckpt))
        results.append(res)
    model = members[0] if len(members) == 1 else Ensemble(members)
    outs = [
        predict_proba(model, dataset_for(data, kind, ids, row_stats), batch_size=mcfg.fit.batch_size)
        for ids in predict_sets
    ]
    return model, outs, results


def _load_outputs(out_file: Path) -> UnimodalOutputs:
    df = pd.read_parquet(out_file)
    return UnimodalOutputs(
        **{p: df[df.part == p].drop(columns="part").reset_index(drop=True) for p in ("test", "val", "oof")}
    )


def fit_unimodal(
    data: ModalityData,
    modality: str,
    mcfg,
    fold,
    model_dir: Path,
    classes,
    *,
    crossfit_folds: int,
    seed: int,
    crossfit_epochs: str = "early_stopping",
) -> UnimodalOutputs:
    """The fold's model for one modality (trained on the whole training side) and, for the fusion,
    out-of-fold outputs for the training utterances from `crossfit_folds` models that never saw them
    (with `crossfit_epochs: main_fit`, each trained for the epochs the fold's model needed)."""
    from emorec.models.saved import save_model_dir

    out_file = model_dir / "outputs.parquet"
    if (model_dir / "done.json").exists() and out_file.exists():
        return _load_outputs(out_file)
    train_ids, val_ids, test_ids = (data.ok_ids(modality, ids) for ids in (fold.train, fold.val, fold.test))
    if not train_ids or not val_ids:
        raise RuntimeError(f"fold {fold.name}: no usable {modality} utterances for training/validation")
    kind, row_stats = fitted_input(data, model_input(data, mcfg), train_ids)
    model, (p_val, p_test), res = _train_predict(
        data, kind, row_stats, mcfg, train_ids, val_ids, [val_ids, test_ids], model_dir / "fit", seed, classes
    )
    if is_global_zero():
        save_model_dir(model, model_dir / "model", unimodal_meta(mcfg, modality, classes, kind))
    oof_cfg = (
        mcfg
        if crossfit_epochs == "early_stopping"
        else fixed_epochs(mcfg, best_epochs(model_dir / "fit", mcfg.fit.monitor, res[0].epochs_run))
    )
    oof = _out_of_fold(data, kind, row_stats, oof_cfg, train_ids, val_ids, model_dir, crossfit_folds, seed, classes)
    outs = UnimodalOutputs(
        probs_frame(test_ids, p_test, classes),
        probs_frame(val_ids, p_val, classes),
        probs_frame(train_ids, oof, classes),
    )
    _finish_unit(
        model_dir,
        {"modality": modality, "best_score": [r.best_score for r in res], "epochs": [r.epochs_run for r in res]},
        outs,
    )
    return outs


def best_epochs(fit_dir: Path, monitor: str, epochs_run: int) -> int:
    """How many epochs the fit in `fit_dir` ran up to its best `monitor` score (all of them without a score)."""
    log = pd.read_csv(fit_dir / "metrics.csv") if (fit_dir / "metrics.csv").exists() else pd.DataFrame()
    if monitor not in log or log[monitor].isna().all():
        return max(1, epochs_run)
    scores = log.dropna(subset=[monitor])
    from emorec.training.fit_config import monitor_mode

    best = scores[monitor].idxmin() if monitor_mode(monitor) == "min" else scores[monitor].idxmax()
    return int(scores.loc[best, "epoch"]) + 1


def fixed_epochs(mcfg, epochs: int):
    """The model config trained for exactly `epochs` epochs (no early stopping)."""
    return mcfg.model_copy(update={"fit": mcfg.fit.model_copy(update={"epochs": epochs, "patience": None})})


def _out_of_fold(
    data, kind, row_stats, mcfg, train_ids, val_ids, model_dir, crossfit_folds, seed, classes
) -> np.ndarray:
    """Probabilities for every training utterance from cross-fitted models that did not see it (zeros without)."""
    from emorec.training.crossfit import kfold_indices

    oof = np.zeros((len(train_ids), len(classes)), dtype=np.float32)
    if crossfit_folds >= 2:
        splits = kfold_indices(len(train_ids), crossfit_folds, seed, groups=data.speakers_of(train_ids))
        for k, (tr_idx, ho_idx) in enumerate(splits):
            tr = [train_ids[i] for i in tr_idx]
            ho = [train_ids[i] for i in ho_idx]
            _, (p_ho,), _ = _train_predict(
                data, kind, row_stats, mcfg, tr, val_ids, [ho], model_dir / f"oof{k}", seed + 1 + k, classes
            )
            oof[np.asarray(ho_idx)] = p_ho
    return oof


def _finish_unit(model_dir: Path, summary: dict, outs: UnimodalOutputs | None = None) -> None:
    """Outputs, pruned checkpoints and the done marker of a unit (rank 0; the others wait for it)."""
    barrier()  # every process has loaded what it needs from the checkpoints
    if is_global_zero():
        if outs is not None:
            parts = (("test", outs.test), ("val", outs.val), ("oof", outs.oof))
            pd.concat([d.assign(part=p) for p, d in parts], ignore_index=True).to_parquet(
                model_dir / "outputs.parquet", index=False
            )
        _prune_checkpoints(model_dir)
        (model_dir / "done.json").write_text(json.dumps(summary))
    barrier()


def _prune_checkpoints(model_dir: Path) -> None:
    """Lightning checkpoints are for resuming; once a unit is done only the saved model and logs stay."""
    for ckpt in model_dir.rglob("*.ckpt"):
        ckpt.unlink()


def unimodal_meta(mcfg, modality: str, classes, kind: InputKind) -> ModelMeta:
    return ModelMeta(
        name=mcfg.arch,
        modality=modality,
        num_classes=len(classes),
        kwargs=dict(mcfg.kwargs),
        classes=list(classes),
        input=kind.meta().model_dump(mode="json"),
        ensemble=mcfg.ensemble,
    )


def fusion_inputs(probs: dict[str, pd.DataFrame], modalities, order, classes, missing: str):
    from emorec.fusion.align import align

    return align({m: probs[m] for m in modalities}, order, modalities=tuple(modalities), missing=missing)


def fit_fusion(data: ModalityData, train_in, val_in, fcfg, model_dir: Path, classes, modalities, *, seed: int):
    from emorec.models import get_model
    from emorec.models.saved import load_model_dir, save_model_dir
    from emorec.training.datasets import FusionDataset
    from emorec.training.fit import fit, load_best

    saved = model_dir / "model"
    if (model_dir / "done.json").exists() and saved.exists():
        return load_model_dir(saved)[0]
    import lightning as L

    L.seed_everything(seed, verbose=False)
    kwargs = {"num_modalities": len(modalities), **fcfg.kwargs}
    model = get_model("fusion_transformer", len(classes), **kwargs)
    ds_tr = FusionDataset(train_in.X, train_in.mask, data.labels_of(train_in.utt_ids))
    ds_val = FusionDataset(val_in.X, val_in.mask, data.labels_of(val_in.utt_ids))
    res = fit(model, ds_tr, ds_val, len(classes), fcfg.fit.model_copy(update={"seed": seed}), model_dir / "fit")
    load_best(model, res.best_ckpt)
    meta = ModelMeta(
        name="fusion_transformer",
        modality="fusion",
        num_classes=len(classes),
        kwargs=kwargs,
        classes=list(classes),
        input={"modalities": list(modalities)},
    )
    if is_global_zero():
        save_model_dir(model, saved, meta)
    _finish_unit(model_dir, {"best_score": res.best_score, "epochs": res.epochs_run})
    return model


def predict_fusion(model, aligned) -> np.ndarray:
    from emorec.training.datasets import FusionDataset
    from emorec.training.fit import predict_proba

    return predict_proba(model, FusionDataset(aligned.X, aligned.mask, None))
