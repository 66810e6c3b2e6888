"""Saved model directories (model.safetensors + model.json) and portable model bundles (directory or .zip).

Nothing here unpickles: weights are safetensors, metadata is JSON/YAML.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import yaml

BUNDLE_FORMAT = "emorec-bundle"
BUNDLE_VERSION = 1
UNIMODAL_KEYS = ("frame", "audio", "text")
MODEL_KEYS = ("frame", "audio", "text", "fusion", "audio_text")  # usual keys; any other fusion key is allowed too
MODEL_MODALITIES = ("frame", "audio", "text", "fusion")
WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
BUNDLE_FILE = "bundle.json"
_KEY = re.compile(r"[a-z0-9_]+")
_REQUIRED_META = ("name", "modality", "num_classes", "kwargs", "classes", "input")


class BundleError(ValueError):
    """A saved model directory or bundle that cannot be read; the message says which file and why."""


# ---------------------------------------------------------------- saved model directory

def validate_meta(meta: dict, where: str = "model.json") -> dict:
    if not isinstance(meta, dict):
        raise BundleError(f"{where}: expected a JSON object")
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        raise BundleError(f"{where}: missing keys {missing} (needs {list(_REQUIRED_META)})")
    if meta["modality"] not in MODEL_MODALITIES:
        raise BundleError(f"{where}: modality must be one of {list(MODEL_MODALITIES)}, got {meta['modality']!r}")
    if not isinstance(meta["classes"], list) or len(meta["classes"]) != meta["num_classes"]:
        raise BundleError(f"{where}: 'classes' must list num_classes={meta['num_classes']} names, got {meta['classes']!r}")
    if not isinstance(meta["kwargs"], dict) or not isinstance(meta["input"], dict):
        raise BundleError(f"{where}: 'kwargs' and 'input' must be objects")
    ensemble = meta.get("ensemble", 1)
    if not isinstance(ensemble, int) or isinstance(ensemble, bool) or ensemble < 1:
        raise BundleError(f"{where}: 'ensemble' must be a whole number >= 1 (members), got {ensemble!r}")
    if meta["modality"] == "fusion":
        mods = meta["input"].get("modalities")
        if not isinstance(mods, list) or not mods or not set(mods) <= set(UNIMODAL_KEYS):
            raise BundleError(f"{where}: a fusion model needs input.modalities, a list drawn from {list(UNIMODAL_KEYS)}; got {mods!r}")
    return meta


def save_model_dir(model, out_dir, meta: dict) -> Path:
    """Write `model.safetensors` (the state_dict) and `model.json` (`meta`) into `out_dir`; returns it."""
    from safetensors.torch import save_file

    validate_meta(meta, f"{out_dir}/{META_FILE}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # clone: tensors that share storage (tied weights) cannot be saved as views
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE), metadata={"name": str(meta["name"]), "modality": str(meta["modality"])})
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    return out


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _build_kwargs(meta: dict) -> dict:
    """get_model kwargs for rebuilding the architecture only: no pretrained-weight loading, since the
    saved state_dict replaces every weight."""
    kwargs = dict(meta["kwargs"])
    if "weights" in kwargs:  # torchvision backbones: ImageNet weights would need the hub cache
        kwargs["weights"] = "none"
    if "pretrained" in kwargs:
        kwargs["pretrained"] = False
    return kwargs


@contextmanager
def _quiet_encoder_loading(active: bool):
    """No Hugging Face 'Loading weights' bar while a text model is rebuilt (its weights are replaced anyway)."""
    if not active:
        yield
        return
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _read_json(read: Callable[[str], bytes], name: str, where, what: str) -> dict:
    """JSON file `name` through `read`; a missing or broken file is a BundleError naming it."""
    try:
        return json.loads(read(name))
    except FileNotFoundError:
        raise BundleError(f"{where}: no {name} ({what})") from None
    except json.JSONDecodeError as e:
        raise BundleError(f"{where}/{name}: invalid JSON ({e.msg}, line {e.lineno})") from None


def _load_model(read: Callable[[str], bytes], where: str):
    from safetensors.torch import load as load_safetensors

    from emorec.models.ensemble import build_model

    meta = _read_json(read, META_FILE, where, "not a saved model directory")
    validate_meta(meta, f"{where}/{META_FILE}")
    try:
        blob = read(WEIGHTS_FILE)
    except FileNotFoundError:
        raise BundleError(f"{where}: no {WEIGHTS_FILE}") from None
    try:
        state = load_safetensors(blob)
    except Exception as e:
        raise BundleError(f"{where}/{WEIGHTS_FILE}: not a readable safetensors file ({e})") from None
    try:
        with _quiet_encoder_loading(meta["name"] == "text"):
            model = build_model(meta["name"], meta["num_classes"], meta.get("ensemble", 1), **_build_kwargs(meta))
    except KeyError as e:
        raise BundleError(f"{where}/{META_FILE}: {e.args[0]}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise BundleError(f"{where}/{WEIGHTS_FILE}: weights do not fit model {meta['name']!r}: {str(e)[:400]}") from None
    model.eval()
    return model, meta


def load_model_dir(path):
    """(model in eval mode, meta) from a saved model directory."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path}: not a directory (expected a saved model directory with {META_FILE} and {WEIGHTS_FILE})")
    return _load_model(lambda name: (path / name).read_bytes(), str(path))


# ---------------------------------------------------------------- bundle

@dataclass
class Bundle:
    """A loaded bundle: its bundle.json, classes, preprocessing settings and models by key."""

    path: Path
    info: dict
    models: dict[str, tuple] = field(default_factory=dict)  # key -> (nn.Module, meta)

    @property
    def classes(self) -> list[str]:
        return list(self.info["label_set"]["classes"])

    @property
    def preprocess(self) -> dict:
        return dict(self.info.get("preprocess") or {})

    def model(self, key: str):
        return self.models[key][0] if key in self.models else None

    def meta(self, key: str) -> dict | None:
        return self.models[key][1] if key in self.models else None


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


def check_model_key(key: str, modality: str, where: str) -> None:
    if not _KEY.fullmatch(key):
        raise BundleError(f"{where}: model key {key!r} must be lower-case letters, digits and '_'")
    if key in UNIMODAL_KEYS and modality != key:
        raise BundleError(f"{where}: model under {key!r} has modality {modality!r}")
    if key not in UNIMODAL_KEYS and modality != "fusion":
        raise BundleError(f"{where}: model key {key!r} is not one of {list(UNIMODAL_KEYS)}, so it must be a fusion "
                          f"model, but its modality is {modality!r}")


def _run_preprocess(config: dict, config_path: Path) -> dict:
    """Every PreprocessConfig field of the run (defaults filled in), without local paths."""
    try:
        from emorec.config import ExperimentConfig

        fields = ExperimentConfig(**config).preprocess_config().model_dump(mode="json")
    except Exception as e:  # pydantic ValidationError, missing modules
        raise BundleError(f"{config_path}: cannot resolve the preprocessing settings: {str(e)[:300]}") from None
    for local in ("root", "out", "corpus_options"):
        fields.pop(local, None)
    return fields


def _label_set_info(config: dict, classes: list[str]) -> dict:
    ls = config.get("label_set")
    if isinstance(ls, dict):
        name = ls.get("name") or "custom"
    else:
        name = str(ls) if ls else "custom"
    return {"name": name, "classes": classes}


def export_bundle(run_dir, out, fold: str | None = None) -> Path:
    """Bundle the saved models of one fold of a training run into `out` (a directory, or a zip when `out`
    ends in .zip). Returns the path written."""
    from emorec import __version__

    run_dir, out = Path(run_dir), Path(out)
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise BundleError(f"{run_dir}: no config.yaml (not a training run directory)")
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as e:
        raise BundleError(f"{config_path}: invalid YAML ({e})") from None
    fold_dir = _find_fold(run_dir, fold)
    units = {}
    for sub in sorted(p for p in fold_dir.iterdir() if p.is_dir()):
        saved = _saved_dir(sub)
        if saved is not None:
            units[sub.name] = saved
    units = dict(sorted(units.items(), key=lambda kv: (MODEL_KEYS.index(kv[0]) if kv[0] in MODEL_KEYS else 99, kv[0])))
    if not units:
        raise BundleError(f"{fold_dir}: no saved models (expected folders such as frame/model/ holding "
                          f"{META_FILE} and {WEIGHTS_FILE})")
    classes = None
    for key, saved in units.items():
        where = str(saved / META_FILE)
        meta = validate_meta(json.loads((saved / META_FILE).read_text()), where)
        check_model_key(key, meta["modality"], where)
        if classes is None:
            classes = list(meta["classes"])
        elif list(meta["classes"]) != classes:
            raise BundleError(f"{where}: classes {meta['classes']} differ from {classes}")
    info = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "emorec_version": __version__,
        "label_set": _label_set_info(config, classes),
        "preprocess": _run_preprocess(config, config_path),
        "models": {k: f"{k}/" for k in units},
        "source": {"run": str(run_dir.resolve()), "fold": fold_dir.name},
    }
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
        for key, saved in units.items():
            (stage / key).mkdir()
            for name in (META_FILE, WEIGHTS_FILE):
                shutil.copyfile(saved / name, stage / key / name)
        (stage / BUNDLE_FILE).write_text(json.dumps(info, indent=2, default=_json_default) + "\n")
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


def write_bundle(out, models: dict, classes: list[str], preprocess: dict | None = None,
                 label_set: str = "custom") -> Path:
    """A bundle directory from in-memory models: {key: (nn.Module, meta)}. Used by tests and tools that
    build models outside a training run."""
    from emorec import __version__

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, (model, meta) in models.items():
        check_model_key(key, meta["modality"], f"{out}/{key}")
        save_model_dir(model, out / key, meta)
    info = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "emorec_version": __version__,
            "label_set": {"name": label_set, "classes": list(classes)}, "preprocess": preprocess or {},
            "models": {k: f"{k}/" for k in models}}
    (out / BUNDLE_FILE).write_text(json.dumps(info, indent=2, default=_json_default) + "\n")
    return out


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


def load_bundle(path) -> Bundle:
    """Load a bundle directory or .zip: checks format and version, loads every listed model (eval mode)."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path}: no such bundle")
    closer = None
    if path.is_dir():
        def read(name: str) -> bytes:
            return (path / name).read_bytes()
    elif zipfile.is_zipfile(path):
        read, closer = _zip_reader(path)
    else:
        raise BundleError(f"{path}: not a bundle (expected a directory or a .zip written by `emorec export`)")
    try:
        info = _read_json(read, BUNDLE_FILE, path, "not an emorec bundle")
        _check_info(info, path)
        bundle = Bundle(path=path, info=info)
        for key, sub in info["models"].items():
            sub = str(sub).strip("/")
            if ".." in PurePosixPath(sub).parts or sub.startswith("/"):
                raise BundleError(f"{path}/{BUNDLE_FILE}: model path {sub!r} leaves the bundle")
            model, meta = _load_model(lambda name, sub=sub: read(f"{sub}/{name}"), f"{path}/{sub}")
            check_model_key(key, meta["modality"], f"{path}/{sub}/{META_FILE}")
            if list(meta["classes"]) != bundle.classes:
                raise BundleError(f"{path}/{sub}/{META_FILE}: classes {meta['classes']} differ from the bundle's {bundle.classes}")
            bundle.models[key] = (model, meta)
        return bundle
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
        raise BundleError(f"{where}: bundle version {version} is newer than this emorec reads ({BUNDLE_VERSION}); "
                          f"upgrade emorec (bundle written by emorec {info.get('emorec_version', '?')})")
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


def build_untrained_bundle(out, classes=("neu", "hap", "sad", "ang"), preprocess: dict | None = None, *,
                           frame: str | None = "resnet18", audio: str | None = "alexnet", text: str | None = "text",
                           fusions: dict[str, list[str]] | None = None, kwargs: dict[str, dict] | None = None,
                           seed: int = 0) -> Path:
    """A bundle of freshly initialised registry models (random weights) with the same layout, inputs and
    compute cost as a trained one: for plumbing tests and timing, never for accuracy.

    `preprocess` holds PreprocessConfig fields (defaults fill the rest); `kwargs` the get_model arguments per
    modality; `fusions` maps a fusion key to its modalities (default: "fusion" over every unimodal model,
    plus "audio_text" when all three exist)."""
    import torch

    from emorec.models import get_model
    from emorec.preprocess.config import PreprocessConfig

    pp = PreprocessConfig(**(preprocess or {}))
    fields = pp.model_dump(mode="json")
    for local in ("root", "out", "corpus_options"):
        fields.pop(local, None)
    torch.manual_seed(seed)
    classes, c = list(classes), len(classes)
    models: dict[str, tuple] = {}
    inputs = {
        "frame": {"crop": pp.crop, "frame_size": pp.frame_size, "frames_per_utterance": pp.frames_per_utterance},
        "audio": {"spec_mean": [0.0, 0.0, 0.0], "spec_std": [1.0, 1.0, 1.0], "recipe": pp.spec_recipe, "egemaps": False},
        "text": {"tokenizer": pp.tokenizer, "max_length": pp.max_length, "tags": pp.tags, "punctuation": pp.punctuation},
    }
    for key, arch in (("frame", frame), ("audio", audio), ("text", text)):
        if arch:
            kw = dict((kwargs or {}).get(key) or ({"encoder": pp.tokenizer} if arch == "text" else {}))
            models[key] = (get_model(arch, c, **kw), {"name": arch, "modality": key, "num_classes": c,
                                                      "kwargs": kw, "classes": classes, "input": inputs[key]})
    uni = [m for m in UNIMODAL_KEYS if m in models]
    if fusions is None:
        fusions = {"fusion": uni} if len(uni) >= 2 else {}
        if "audio" in models and "text" in models and len(uni) == 3:
            fusions["audio_text"] = ["audio", "text"]
    for key, mods in fusions.items():
        kw = {**((kwargs or {}).get("fusion") or {}), "num_modalities": len(mods)}
        models[key] = (get_model("fusion_transformer", c, **kw), {
            "name": "fusion_transformer", "modality": "fusion", "num_classes": c, "kwargs": kw,
            "classes": classes, "input": {"modalities": list(mods)}})
    out = Path(out)
    write_bundle(out, models, classes, fields, label_set="untrained")
    info = json.loads((out / BUNDLE_FILE).read_text())
    info["untrained"] = True  # random weights: predictions carry no meaning
    (out / BUNDLE_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return out
