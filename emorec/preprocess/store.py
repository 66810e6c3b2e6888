"""The feature store: one folder of memory-mapped arrays + manifest per (corpus, preprocessing config).

Layout (see docs/preprocess.md): config.yaml, manifest.parquet, frames.npy, spec.npy, input_ids.npy,
attention_mask.npy, [egemaps.npy], summary.json, complete. While a run is under way each finished work unit
writes its rows into <name>.npy.tmp and records itself in shards/<unit>.npz; when all are done the arrays are
renamed and the manifest is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from emorec.inputs import MODALITIES
from emorec.preprocess.config import PreprocessConfig

COMPLETE = "complete"
SHARDS = "shards"
NOT_COMPUTED = "not computed"


class StoreError(RuntimeError):
    pass


def array_specs(cfg: PreprocessConfig) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Per-row shape and dtype of each array the config produces (the arrays of its input kinds)."""
    return {name: spec for kind in cfg.inputs() for name, spec in kind.arrays().items()}


class FeatureStore:
    """A finished store, opened read-only; arrays are memory-mapped, never loaded whole."""

    def __init__(self, path: Path, config: PreprocessConfig, manifest: pd.DataFrame):
        self.path = Path(path)
        self.config = config
        self.manifest = manifest
        self._arrays: dict[str, np.ndarray] = {}
        self._row_of: dict[str, int] | None = None

    @classmethod
    def open(cls, path) -> FeatureStore:
        path = Path(path)
        if not (path / COMPLETE).is_file():
            raise StoreError(
                f"{path} is not a complete feature store (no '{COMPLETE}' marker); run `emorec preprocess` to finish it"
            )
        cfg = PreprocessConfig(**yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")))
        manifest = pd.read_parquet(path / "manifest.parquet")
        return cls(path, cfg, manifest)

    def __len__(self) -> int:
        return len(self.manifest)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, rows={len(self)}, arrays={list(array_specs(self.config))})"

    def has(self, name: str) -> bool:
        return name in array_specs(self.config) and (self.path / f"{name}.npy").is_file()

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            if not self.has(name):
                kinds = [k.name for k in self.config.inputs()]
                raise KeyError(
                    f"{self.path} has no {name!r} array (its input kinds: {', '.join(kinds)}; openSMILE "
                    f"functionals need `egemaps: true` / `compare: true` in the preprocessing config)"
                )
            self._arrays[name] = np.load(self.path / f"{name}.npy", mmap_mode="r")
        return self._arrays[name]

    def ok(self, modality: str) -> np.ndarray:
        if modality not in MODALITIES:
            raise KeyError(f"unknown modality {modality!r}; modalities: {', '.join(MODALITIES)}")
        return (self.manifest[f"status_{modality}"] == "ok").to_numpy()

    def rows(self, utt_ids) -> np.ndarray:
        if self._row_of is None:
            self._row_of = {u: i for i, u in enumerate(self.manifest["utt_id"])}
        ids = [utt_ids] if isinstance(utt_ids, str) else list(utt_ids)
        missing = [u for u in ids if u not in self._row_of]
        if missing:
            raise KeyError(f"{len(missing)} utterance ids not in {self.path}: {missing[:5]}")
        return np.array([self._row_of[u] for u in ids], dtype=np.int64)

    @property
    def summary(self) -> dict:
        p = self.path / "summary.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def is_complete(path) -> bool:
    return (Path(path) / COMPLETE).is_file()


# --- shards ------------------------------------------------------------------------------------------------


def shard_name(key: str) -> str:
    """A file-safe shard name for a work unit key (dialog name, or a media path)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key)[-80:]
    if safe != key:
        safe += "-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return safe + ".npz"


def open_arrays(store: Path, cfg: PreprocessConfig, n: int) -> bool:
    """Make sure the unfinished arrays `<name>.npy.tmp` exist with n rows of the config's shapes; units write
    their rows straight into them. Returns True when any had to be (re)created: shards written before
    then no longer have their rows and must be redone."""
    created = False
    for name, (shape, dtype) in array_specs(cfg).items():
        path = store / f"{name}.npy.tmp"
        try:
            a = np.load(path, mmap_mode="r")
            fits = a.shape == (n, *shape) and a.dtype == dtype
            del a
        except Exception:
            fits = False
        if not fits:
            out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, *shape))
            del out
            created = True
    return created


def write_shard(
    path: Path, rows: list[int], utt_ids: list[str], arrays: dict[str, np.ndarray], meta: list[dict], info: dict
) -> None:
    """Finish a unit: its rows go into the store's unfinished arrays (memory-mapped, next to `shards/`), then
    its shard (rows, ids, manifest columns) is written atomically, a temporary file renamed over the final
    name. A process killed at any point leaves either no shard (the unit is redone) or a shard whose rows are
    in the arrays (the kernel keeps written pages of a killed process). No fsync: after a machine crash,
    delete the store."""
    store = path.parent.parent
    idx = np.asarray(rows, np.int64)
    for name, values in arrays.items():
        out = np.load(store / f"{name}.npy.tmp", mmap_mode="r+")
        out[idx] = values
        del out
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    payload = {
        "rows": idx,
        "utt_ids": np.asarray(utt_ids, dtype=str),
        "meta": np.asarray(json.dumps({"rows": meta, "info": info})),
    }
    with open(tmp, "wb") as f:
        np.savez(f, **payload)
    os.replace(tmp, path)


def read_shard(path: Path) -> dict:
    """{'rows', 'utt_ids', 'meta': [...], 'info': {...}}; raises on a damaged file."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return {
            "rows": z["rows"],
            "utt_ids": [str(u) for u in z["utt_ids"]],
            "meta": meta["rows"],
            "info": meta["info"],
        }


def shard_matches(path: Path, rows: list[int], utt_ids: list[str]) -> bool:
    """True when a shard exists, is readable and holds exactly these rows."""
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["rows"].tolist() == list(rows) and [str(u) for u in z["utt_ids"]] == list(utt_ids)
    except Exception:
        return False


def remove_temporaries(shard_dir: Path) -> None:
    for p in shard_dir.glob(".*.tmp-*"):
        with contextlib.suppress(OSError):
            p.unlink()


# --- consolidation -----------------------------------------------------------------------------------------


def consolidate(
    store: Path, cfg: PreprocessConfig, base: pd.DataFrame, units: list[tuple[str, list[int]]]
) -> tuple[pd.DataFrame, list[dict]]:
    """Turn the finished units into the store: the unfinished arrays take their final names, and the manifest
    is `base` (one row per utterance in store order) plus the per-row columns the shards carry. Returns the
    manifest and each shard's info (warnings, notes, seconds)."""
    n = len(base)
    per_row: list[dict | None] = [None] * n
    infos = []
    for key, rows in units:
        shard = read_shard(store / SHARDS / shard_name(key))
        infos.append(shard["info"])
        for r, m in zip(rows, shard["meta"]):
            per_row[r] = m
    missing = [i for i, m in enumerate(per_row) if m is None]
    if missing:
        raise StoreError(f"{store}: {len(missing)} rows have no shard (first: row {missing[0]})")
    for name in array_specs(cfg):
        os.replace(store / f"{name}.npy.tmp", store / f"{name}.npy")
    extra = pd.DataFrame(per_row)
    manifest = pd.concat([base.reset_index(drop=True), extra], axis=1)
    manifest["status"] = [_overall(r, cfg.modalities) for r in per_row]
    tmp = store / "manifest.parquet.tmp"
    manifest.to_parquet(tmp, index=False)
    os.replace(tmp, store / "manifest.parquet")
    return manifest, infos


def _overall(row: dict, modalities: list[str]) -> str:
    for m in modalities:
        if row[f"status_{m}"] != "ok":
            return row[f"status_{m}"]
    return "ok"


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
