"""Glue between the feature store, the models and the fusion, shared by training and evaluation."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from emorec.corpora.labels import LabelSet
from emorec.corpora.records import Utterance
from emorec.preprocess.config import FUNCTIONAL_SETS

STORE_ARRAY = {"frame": "frames", "audio": "spec", "text": "input_ids"}


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
        for key in ("text", "speaker", "group", "dialog", "gender", "script", "split", "video_path", "audio_path", "sentence_wav"):
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
    def from_store(cls, store, label_set: LabelSet) -> "ModalityData":
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


def input_kind(arch: str) -> str:
    """What a model reads from the store: frames, spec, egemaps, compare or text."""
    from emorec.models import model_spec

    return model_spec(arch).input_kind


def dataset_for(data: ModalityData, kind: str, ids, input_meta: dict, *, train: bool = False, augment=None):
    from emorec.training.datasets import StoreDataset

    labels = data.labels_of(ids) if all(i in data.y for i in ids) else None
    return StoreDataset(data.store, data.rows_of(ids), labels, kind, augment=augment if train else None, **input_meta)


def input_meta_for(data: ModalityData, kind: str, train_ids, normalise: str = "train") -> dict:
    """Normalisation the model's inputs need: statistics of the training rows only, or (`speaker`) of each
    speaker's own rows, for every speaker in `data` (test speakers' unlabelled recordings included)."""
    from emorec.training.datasets import FUNCTIONALS, feature_stats, spec_channel_stats

    if normalise == "speaker":
        if kind not in ("spec", *FUNCTIONALS):
            raise ValueError(f"normalise: speaker applies to spectrogram and openSMILE functionals inputs, not {kind!r}")
        return {"row_stats": speaker_row_stats(data, kind, data.ok_ids("audio", data.order))}
    if kind == "spec":
        mean, std = spec_channel_stats(data.store, data.rows_of(train_ids))
        return {"spec_stats": (np.asarray(mean).tolist(), np.asarray(std).tolist())}
    if kind in FUNCTIONALS:
        mean, std = feature_stats(data.store, data.rows_of(train_ids), kind)
        return {f"{kind}_stats": (np.asarray(mean).tolist(), np.asarray(std).tolist())}
    return {}


def speaker_row_stats(data: ModalityData, kind: str, ids) -> dict:
    from emorec.training.datasets import speaker_stats

    by_speaker: dict[str, list[int]] = {}
    for i, spk in zip(ids, data.speakers_of(ids)):
        by_speaker.setdefault(spk, []).append(data.row[i])
    return speaker_stats(data.store, {k: np.asarray(v) for k, v in by_speaker.items()}, kind)


def _train_predict(data, kind, mcfg, train_ids, val_ids, predict_sets, work_dir, meta, seed, classes):
    import lightning as L

    from emorec.training.module import fit, load_best, predict_proba
    from emorec.models import get_model
    from emorec.models.ensemble import Ensemble

    ds_tr = dataset_for(data, kind, train_ids, meta, train=True, augment=mcfg.augment)
    ds_val = dataset_for(data, kind, val_ids, meta)
    members, results = [], []
    for k in range(mcfg.ensemble):  # member k: seed + k, its own fit folder (each resumes on its own)
        L.seed_everything(seed + k, verbose=False)
        member = get_model(mcfg.arch, len(classes), **mcfg.kwargs)
        fit_cfg = mcfg.fit.model_copy(update={"seed": seed + k})
        res = fit(member, ds_tr, ds_val, len(classes), fit_cfg, work_dir if k == 0 else work_dir.with_name(f"{work_dir.name}_m{k}"))
        members.append(load_best(member, res.best_ckpt))
        results.append(res)
    model = members[0] if len(members) == 1 else Ensemble(members)
    outs = [predict_proba(model, dataset_for(data, kind, ids, meta), batch_size=mcfg.fit.batch_size) for ids in predict_sets]
    return model, outs, results


def fit_unimodal(data: ModalityData, modality: str, mcfg, fold, model_dir: Path, classes, *, crossfit_folds: int, seed: int) -> UnimodalOutputs:
    """The fold's model for one modality (trained on the whole training side) and, for the fusion,
    out-of-fold outputs for the training utterances from `crossfit_folds` models that never saw them."""
    from emorec.inference.bundle import save_model_dir
    from emorec.training.crossfit import kfold_indices

    out_file = model_dir / "outputs.parquet"
    if (model_dir / "done.json").exists() and out_file.exists():
        df = pd.read_parquet(out_file)
        parts = {p: df[df.part == p].drop(columns="part").reset_index(drop=True) for p in ("test", "val", "oof")}
        return UnimodalOutputs(**parts)
    model_dir.mkdir(parents=True, exist_ok=True)
    train_ids = data.ok_ids(modality, fold.train)
    val_ids = data.ok_ids(modality, fold.val)
    test_ids = data.ok_ids(modality, fold.test)
    if not train_ids or not val_ids:
        raise RuntimeError(f"fold {fold.name}: no usable {modality} utterances for training/validation")
    kind = input_kind(mcfg.arch)
    meta = input_meta_for(data, kind, train_ids, mcfg.normalise)
    model, (p_val, p_test), res = _train_predict(
        data, kind, mcfg, train_ids, val_ids, [val_ids, test_ids], model_dir / "fit", meta, seed, classes
    )
    save_model_dir(model, model_dir / "model", model_meta(data, modality, mcfg, classes, meta))

    oof = np.zeros((len(train_ids), len(classes)), dtype=np.float32)
    if crossfit_folds >= 2:
        splits = kfold_indices(len(train_ids), crossfit_folds, seed, groups=data.speakers_of(train_ids))
        for k, (tr_idx, ho_idx) in enumerate(splits):
            tr = [train_ids[i] for i in tr_idx]
            ho = [train_ids[i] for i in ho_idx]
            _, (p_ho,), _ = _train_predict(data, kind, mcfg, tr, val_ids, [ho], model_dir / f"oof{k}", meta, seed + 1 + k, classes)
            oof[np.asarray(ho_idx)] = p_ho
    outs = UnimodalOutputs(probs_frame(test_ids, p_test, classes), probs_frame(val_ids, p_val, classes), probs_frame(train_ids, oof, classes))
    df = pd.concat([d.assign(part=p) for p, d in (("test", outs.test), ("val", outs.val), ("oof", outs.oof))], ignore_index=True)
    df.to_parquet(out_file, index=False)
    _prune_checkpoints(model_dir)
    (model_dir / "done.json").write_text(json.dumps({"modality": modality, "best_score": [r.best_score for r in res],
                                                     "epochs": [r.epochs_run for r in res]}))
    return outs


def _prune_checkpoints(model_dir: Path) -> None:
    """Lightning checkpoints are for resuming; once a unit is done only the saved model and logs stay."""
    for ckpt in model_dir.rglob("*.ckpt"):
        ckpt.unlink()


def model_meta(data: ModalityData, modality: str, mcfg, classes, input_meta: dict) -> dict:
    pp = data.store.config
    meta = {"name": mcfg.arch, "modality": modality, "num_classes": len(classes), "kwargs": dict(mcfg.kwargs), "classes": list(classes)}
    if mcfg.ensemble > 1:
        meta["ensemble"] = mcfg.ensemble
    if modality == "frame":
        meta["input"] = {"crop": pp.crop, "frame_size": pp.frame_size, "frames_per_utterance": pp.frames_per_utterance}
    elif modality == "audio":
        meta["input"] = {"kind": input_kind(mcfg.arch), "recipe": pp.spec_recipe, "normalise": mcfg.normalise,
                         **{name: getattr(pp, name) for name in FUNCTIONAL_SETS}}
        for key in ("spec", *FUNCTIONAL_SETS):
            mean, std = input_meta.get(f"{key}_stats", (None, None))
            if mean is not None:
                meta["input"].update({f"{key}_mean": mean, f"{key}_std": std})
    else:
        meta["input"] = {"tokenizer": pp.tokenizer, "max_length": pp.max_length, "tags": pp.tags, "punctuation": pp.punctuation}
    return meta


def fusion_inputs(probs: dict[str, pd.DataFrame], modalities, order, classes, missing: str):
    from emorec.fusion.align import align

    return align({m: probs[m] for m in modalities}, order, modalities=tuple(modalities), missing=missing)


def fit_fusion(data: ModalityData, train_in, val_in, fcfg, model_dir: Path, classes, modalities, *, seed: int):
    from emorec.inference.bundle import load_model_dir, save_model_dir
    from emorec.training.datasets import FusionDataset
    from emorec.training.module import fit, load_best
    from emorec.models import get_model

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
    meta = {"name": "fusion_transformer", "modality": "fusion", "num_classes": len(classes), "kwargs": kwargs,
            "classes": list(classes), "input": {"modalities": list(modalities)}}
    save_model_dir(model, saved, meta)
    _prune_checkpoints(model_dir)
    (model_dir / "done.json").write_text(json.dumps({"best_score": res.best_score, "epochs": res.epochs_run}))
    return model


def predict_fusion(model, aligned) -> np.ndarray:
    from emorec.training.datasets import FusionDataset
    from emorec.training.module import predict_proba

    return predict_proba(model, FusionDataset(aligned.X, aligned.mask, None))
