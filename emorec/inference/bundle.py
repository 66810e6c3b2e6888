"""Portable model bundles (a directory or .zip): bundle.json plus one saved model directory per model key.

Nothing here unpickles: weights are safetensors, metadata is JSON/YAML. A bundle loads nothing from outside
itself but installed packages: a text encoder or tokenizer is named (e.g. `minilm`), never a path.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from emorec.inputs import MODALITIES
from emorec.models.saved import (
    META_FILE,
    WEIGHTS_FILE,
    BundleError,
    ModelMeta,
    build_saved,
    parse_meta,
    read_json,
    read_meta,
)

BUNDLE_FORMAT = "emorec-bundle"
BUNDLE_VERSION = 2  # 2: model.json "input" holds the input kind's settings; version 1 is read and upgraded
MODEL_KEYS = (*MODALITIES, "fusion", "audio_text")  # the usual order; any other fusion key is allowed too
BUNDLE_FILE = "bundle.json"
_KEY = re.compile(r"[a-z0-9_]+")
LOCAL_FIELDS = ("root", "out", "corpus_options")  # preprocessing fields that only make sense on the training machine


class LazyModels(Mapping):
    """key -> (nn.Module, ModelMeta): each model's weights are read and its architecture built on first use,
    once, also when several threads ask (the recogniser builds models while Whisper transcribes)."""

    def __init__(self, metas: dict[str, ModelMeta], build):
        self.metas, self._build, self._built = dict(metas), build, {}
        self._locks = {k: threading.Lock() for k in self.metas}

    def __getitem__(self, key: str):
        if key not in self._built:
            with self._locks[key]:
                if key not in self._built:
                    self._built[key] = self._build(key, self.metas[key])
        return self._built[key], self.metas[key]

    def __contains__(self, key) -> bool:  # without building the model (Mapping's default would)
        return key in self.metas

    def __iter__(self):
        return iter(self.metas)

    def __len__(self) -> int:
        return len(self.metas)

    @property
    def loaded(self) -> list[str]:
        return list(self._built)


@dataclass
class Bundle:
    """A loaded bundle: its bundle.json, classes and models by key."""

    path: Path
    info: dict
    models: Mapping = field(default_factory=dict)  # key -> (nn.Module, ModelMeta)

    @property
    def classes(self) -> list[str]:
        return list(self.info["label_set"]["classes"])

    def model(self, key: str):
        return self.models[key][0] if key in self.models else None

    def meta(self, key: str) -> ModelMeta | None:
        if isinstance(self.models, LazyModels):
            return self.models.metas.get(key)
        return self.models[key][1] if key in self.models else None


def check_model_key(key: str, modality: str, where: str) -> None:
    if not _KEY.fullmatch(key):
        raise BundleError(f"{where}: model key {key!r} must be lower-case letters, digits and '_'")
    if key in MODALITIES and modality != key:
        raise BundleError(f"{where}: model under {key!r} has modality {modality!r}")
    if key not in MODALITIES and modality != "fusion":
        raise BundleError(
            f"{where}: model key {key!r} is not one of {list(MODALITIES)}, so it must be a fusion "
            f"model, but its modality is {modality!r}"
        )


def check_self_contained(meta: ModelMeta, where: str) -> None:
    """Refuse a model that would load files from a path of its choosing (text encoders and tokenizers are named)."""
    named = {"encoder": meta.kwargs.get("encoder"), "tokenizer": meta.input.get("settings", {}).get("tokenizer")}
    for what, value in named.items():
        if isinstance(value, str) and ("/" in value or "\\" in value or value.startswith(".")):
            raise BundleError(
                f"{where}: {what} {value!r} is a path; a bundle loads text encoders only from installed "
                f"packages (e.g. 'minilm'), never from a folder it names"
            )


# ---------------------------------------------------------------- export from a training run


def _find_fold(run_dir: Path, fold: str | None) -> Path:
    folds_dir = run_dir / "folds"
    if not folds_dir.is_dir():
        raise BundleError(f"{run_dir}: no folds/ directory (not a training run directory)")
    names = sorted(p.name for p in folds_dir.iterdir() if p.is_dir())
    if not names:
        raise BundleError(f"{folds_dir}: no folds")
    if fold is None:
        if len(names) == 1:
            return folds_dir / names[0]
        raise BundleError(f"{run_dir} has {len(names)} folds ({', '.join(names)}); choose one with --fold")
    if fold not in names:
        raise BundleError(f"{run_dir}: no fold {fold!r}; available: {', '.join(names)}")
    return folds_dir / fold


def _saved_dir(sub: Path) -> Path | None:
    """The saved model directory of a fold's model unit: `<unit>/model/` (training layout) or `<unit>/`."""
    for cand in (sub / "model", sub):
        if (cand / META_FILE).is_file() and (cand / WEIGHTS_FILE).is_file():
            return cand
    return None


def run_preprocess(config: dict, where) -> dict:
    """Every preprocessing field of a run's config (defaults filled in), without local paths."""
    try:
        from emorec.config import ExperimentConfig

        cfg = ExperimentConfig(**config)
        if cfg.pooled:  # each model's settings are in its own model.json
            return {}
        fields = cfg.preprocess_config().model_dump(mode="json")
    except Exception as e:  # pydantic ValidationError, missing modules
        raise BundleError(f"{where}: cannot resolve the preprocessing settings: {str(e)[:300]}") from None
    return {k: v for k, v in fields.items() if k not in LOCAL_FIELDS}


def _label_set_info(config: dict, classes: list[str]) -> dict:
    ls = config.get("label_set")
    name = (ls.get("name") or "custom") if isinstance(ls, dict) else (str(ls) if ls else "custom")
    return {"name": name, "classes": classes}


def _read_run(run_dir: Path) -> dict:
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise BundleError(f"{run_dir}: no config.yaml (not a training run directory)")
    try:
        return yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as e:
        raise BundleError(f"{config_path}: invalid YAML ({e})") from None


def _fold_models(fold_dir: Path, preprocess: dict) -> dict[str, tuple[Path, ModelMeta]]:
    units = {
        sub.name: saved
        for sub in sorted(p for p in fold_dir.iterdir() if p.is_dir())
        if (saved := _saved_dir(sub)) is not None
    }
    if not units:
        raise BundleError(
            f"{fold_dir}: no saved models (expected folders such as frame/model/ holding "
            f"{META_FILE} and {WEIGHTS_FILE})"
        )
    order = sorted(units, key=lambda k: (MODEL_KEYS.index(k) if k in MODEL_KEYS else 99, k))
    out, classes = {}, None
    for key in order:
        where = str(units[key] / META_FILE)
        meta = parse_meta(json.loads((units[key] / META_FILE).read_text()), where, preprocess)
        check_model_key(key, meta.modality, where)
        if classes is not None and meta.classes != classes:
            raise BundleError(f"{where}: classes {meta.classes} differ from {classes}")
        classes = meta.classes
        out[key] = (units[key], meta)
    return out


def export_bundle(run_dir, out, fold: str | None = None) -> Path:
    """Bundle the saved models of one fold of a training run into `out` (a directory, or a zip when `out`
    ends in .zip). Returns the path written."""
    from emorec import __version__

    run_dir, out = Path(run_dir), Path(out)
    config = _read_run(run_dir)
    preprocess = run_preprocess(config, run_dir / "config.yaml")
    fold_dir = _find_fold(run_dir, fold)
    units = _fold_models(fold_dir, preprocess)
    classes = next(iter(units.values()))[1].classes
    info = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "emorec_version": __version__,
        "label_set": _label_set_info(config, classes),
        "preprocess": preprocess,
        "models": {k: f"{k}/" for k in units},
        "source": {"run": str(run_dir.resolve()), "fold": fold_dir.name},
    }

    def fill(stage: Path) -> None:
        for key, (saved, meta) in units.items():
            (stage / key).mkdir()
            shutil.copyfile(saved / WEIGHTS_FILE, stage / key / WEIGHTS_FILE)
            (stage / key / META_FILE).write_text(meta.model_dump_json(indent=2) + "\n")  # in the current format
        (stage / BUNDLE_FILE).write_text(json.dumps(info, indent=2) + "\n")

    return _write_out(out, fill)


def _write_out(out: Path, fill) -> Path:
    """Fill a new bundle directory, or a zip file when `out` ends in .zip; an existing bundle is replaced."""
    zipped = out.suffix.lower() == ".zip"
    if out.exists():
        if out.is_dir() and not zipped:
            if any(out.iterdir()) and not (out / BUNDLE_FILE).is_file():
                raise BundleError(f"{out}: exists and is not a bundle; refusing to overwrite")
            shutil.rmtree(out)
        elif zipped and out.is_file():
            out.unlink()
        else:
            raise BundleError(f"{out}: exists and is not a {'zip file' if zipped else 'directory'}")
    stage = Path(tempfile.mkdtemp(prefix="emorec-bundle-")) if zipped else out
    try:
        stage.mkdir(parents=True, exist_ok=True)
        fill(stage)
        if zipped:
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
                for f in sorted(stage.rglob("*")):
                    if f.is_file():
                        zf.write(f, f.relative_to(stage).as_posix())
    finally:
        if zipped:
            shutil.rmtree(stage, ignore_errors=True)
    return out


def write_bundle(out, models: dict, classes: list[str], label_set: str = "custom", extra: dict | None = None) -> Path:
    """A bundle directory from in-memory models: {key: (nn.Module, ModelMeta)}."""
    from emorec import __version__
    from emorec.models.saved import save_model_dir

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, (model, meta) in models.items():
        meta = meta if isinstance(meta, ModelMeta) else parse_meta(meta, f"{out}/{key}/{META_FILE}")
        check_model_key(key, meta.modality, f"{out}/{key}")
        save_model_dir(model, out / key, meta)
    info = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "emorec_version": __version__,
        "label_set": {"name": label_set, "classes": list(classes)},
        "models": {k: f"{k}/" for k in models},
        **(extra or {}),
    }
    (out / BUNDLE_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return out


# ---------------------------------------------------------------- loading


def _zip_reader(path: Path):
    zf = zipfile.ZipFile(path)
    names = set(zf.namelist())
    prefix = ""
    if BUNDLE_FILE not in names:  # a zipped bundle folder: everything under one top-level directory
        tops = [n for n in names if PurePosixPath(n).name == BUNDLE_FILE and len(PurePosixPath(n).parts) == 2]
        if len(tops) == 1:
            prefix = tops[0][: -len(BUNDLE_FILE)]

    def read(name: str) -> bytes:
        full = prefix + name
        if full not in names:
            raise FileNotFoundError(full)
        return zf.read(full)

    return read, zf


def _reader(path: Path):
    """(read(name) -> bytes, closer or None) for a bundle directory or zip."""
    if path.is_dir():
        return (lambda name: (path / name).read_bytes()), None
    if zipfile.is_zipfile(path):
        return _zip_reader(path)
    raise BundleError(f"{path}: not a bundle (expected a directory or a .zip written by `emorec export`)")


def load_bundle(path, lazy: bool = False) -> Bundle:
    """Load a bundle directory or .zip: checks format, version and every model.json; builds every model (eval
    mode) now, or with `lazy` when it is first used (a recording without video never loads the frame model)."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path}: no such bundle")
    read, closer = _reader(path)
    try:
        info = read_json(read, BUNDLE_FILE, path, "not an emorec bundle")
        _check_info(info, path)
        bundle = Bundle(path=path, info=info)
        subs = {key: _member_folder(path, str(sub).strip("/")) for key, sub in info["models"].items()}
        metas = {key: _read_member(read, path, key, sub, bundle) for key, sub in subs.items()}
        bundle.models = LazyModels(metas, lambda key, meta: _build_member(path, subs[key], meta))
        if not lazy:
            bundle.models = {
                key: (build_saved(lambda n, s=subs[key]: read(f"{s}/{n}"), f"{path}/{subs[key]}", meta), meta)
                for key, meta in metas.items()
            }
        return bundle
    finally:
        if closer is not None:
            closer.close()


def _member_folder(path: Path, sub: str) -> str:
    if ".." in PurePosixPath(sub).parts or sub.startswith("/"):
        raise BundleError(f"{path}/{BUNDLE_FILE}: model path {sub!r} leaves the bundle")
    return sub


def _read_member(read, path: Path, key: str, sub: str, bundle: Bundle) -> ModelMeta:
    where = f"{path}/{sub}"

    def check(meta: ModelMeta) -> None:
        check_self_contained(meta, f"{where}/{META_FILE}")
        check_model_key(key, meta.modality, f"{where}/{META_FILE}")
        if meta.classes != bundle.classes:
            raise BundleError(f"{where}/{META_FILE}: classes {meta.classes} differ from the bundle's {bundle.classes}")

    return read_meta(lambda name: read(f"{sub}/{name}"), where, bundle.info.get("preprocess"), check)


def _build_member(path: Path, sub: str, meta: ModelMeta):
    read, closer = _reader(path)
    try:
        return build_saved(lambda name: read(f"{sub}/{name}"), f"{path}/{sub}", meta)
    finally:
        if closer is not None:
            closer.close()


def _check_info(info, path: Path) -> None:
    where = f"{path}/{BUNDLE_FILE}"
    if not isinstance(info, dict) or info.get("format") != BUNDLE_FORMAT:
        got = info.get("format") if isinstance(info, dict) else type(info).__name__
        raise BundleError(f"{where}: format is {got!r}, expected {BUNDLE_FORMAT!r}")
    version = info.get("version")
    if not isinstance(version, int):
        raise BundleError(f"{where}: 'version' must be an integer, got {version!r}")
    if version > BUNDLE_VERSION:
        raise BundleError(
            f"{where}: bundle version {version} is newer than this emorec reads ({BUNDLE_VERSION}); "
            f"upgrade emorec (bundle written by emorec {info.get('emorec_version', '?')})"
        )
    if version < 1:
        raise BundleError(f"{where}: invalid bundle version {version}")
    ls = info.get("label_set")
    if not isinstance(ls, dict) or not isinstance(ls.get("classes"), list) or len(ls["classes"]) < 2:
        raise BundleError(f"{where}: 'label_set' must hold a 'classes' list of at least 2 names")
    models = info.get("models")
    if not isinstance(models, dict) or not models:
        raise BundleError(f"{where}: 'models' must map model keys to folders")
    bad = [k for k in models if not isinstance(k, str) or not _KEY.fullmatch(k)]
    if bad:
        raise BundleError(f"{where}: invalid model keys {bad} (lower-case letters, digits and '_')")
