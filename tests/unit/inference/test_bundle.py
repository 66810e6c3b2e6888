"""Saved model directories, `emorec export` bundles (directory and zip) and their validation."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest
import torch
import yaml

from emorec.inference.bundle import BUNDLE_FILE, BundleError, export_bundle, load_bundle
from emorec.models import get_model
from emorec.models.saved import ModelMeta, load_model_dir, save_model_dir
from emorec.preprocess.config import PreprocessConfig

CLASSES = ["neu", "hap", "sad", "ang"]
PP = PreprocessConfig(frame_size=32, spec_size=(32, 96))


def _meta(name, modality, inp, **kwargs) -> ModelMeta:
    return ModelMeta(name=name, modality=modality, num_classes=len(CLASSES), kwargs=kwargs, classes=CLASSES, input=inp)


def _input(kind, stats=None) -> dict:
    return PP.input(kind).with_stats(stats).meta().model_dump(mode="json")


def _models(seed=0):
    torch.manual_seed(seed)
    spec_stats = {"mean": [[[0.1]], [[0.2]], [[0.3]]], "std": [[[1.0]], [[2.0]], [[3.0]]]}
    return {
        "frame": (get_model("small_cnn", 4, width=8), _meta("small_cnn", "frame", _input("frames"), width=8)),
        "audio": (get_model("audio_cnn", 4, width=8), _meta("audio_cnn", "audio", _input("spec", spec_stats), width=8)),
        "fusion": (
            get_model("fusion_transformer", 4, num_modalities=2),
            _meta("fusion_transformer", "fusion", {"modalities": ["frame", "audio"]}, num_modalities=2),
        ),
    }


def _inputs():
    g = torch.Generator().manual_seed(1)
    return {
        "frame": torch.randn(2, 3, 32, 32, generator=g),
        "audio": torch.randn(2, 3, 32, 48, generator=g),
        "fusion": {
            "x": torch.softmax(torch.randn(2, 2, 4, generator=g), -1),
            "mask": torch.tensor([[True, True], [True, False]]),
        },
    }


def _same_outputs(a, b, x):
    a.eval(), b.eval()
    with torch.no_grad():
        assert torch.allclose(a(x), b(x), atol=1e-6)


def _run_dir(tmp_path, folds=("session5",), layout="model"):
    run = tmp_path / "run"
    run.mkdir()
    cfg = {
        "name": "t",
        "corpus": {"name": "iemocap", "root": "/nowhere"},
        "label_set": "iemocap4",
        "preprocess": {"frame_size": 32, "spec_size": [32, 96]},
        "models": {
            "frame": {"arch": "small_cnn", "kwargs": {"width": 8}},
            "audio": {"arch": "audio_cnn", "kwargs": {"width": 8}},
        },
    }
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    models = _models()
    for fold in folds:
        for key, (model, meta) in models.items():
            save_model_dir(model, run / "folds" / fold / key / ("model" if layout == "model" else ""), meta)
        (run / "folds" / fold / "predictions.parquet").write_bytes(b"")  # ignored by export
    return run, models


def test_save_and_load_model_dir_roundtrip(tmp_path):
    model, meta = _models()["audio"]
    out = save_model_dir(model, tmp_path / "m", meta)
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.safetensors"]
    assert ModelMeta(**json.loads((out / "model.json").read_text())) == meta
    assert (out / "model.safetensors").read_bytes()[8:9] == b"{"  # safetensors header, not a pickle
    loaded, meta2 = load_model_dir(out)
    assert meta2 == meta and not loaded.training
    _same_outputs(model, loaded, _inputs()["audio"])


def test_save_model_dir_rejects_bad_meta(tmp_path):
    model, meta = _models()["audio"]
    meta = meta.model_dump()
    with pytest.raises(BundleError, match="input: Field required"):
        save_model_dir(model, tmp_path / "m", {k: v for k, v in meta.items() if k != "input"})
    with pytest.raises(BundleError, match="num_classes=4"):
        save_model_dir(model, tmp_path / "m", {**meta, "classes": ["a", "b"]})
    with pytest.raises(BundleError, match="modality must be one of"):
        save_model_dir(model, tmp_path / "m", {**meta, "modality": "smell"})
    with pytest.raises(BundleError, match="unknown input kind 'smell'"):
        save_model_dir(model, tmp_path / "m", {**meta, "input": {**meta["input"], "kind": "smell"}})


def test_load_model_dir_errors(tmp_path):
    with pytest.raises(BundleError, match="not a directory"):
        load_model_dir(tmp_path / "missing")
    model, meta = _models()["audio"]
    out = save_model_dir(model, tmp_path / "m", meta)
    (out / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="not a readable safetensors"):
        load_model_dir(out)
    meta16 = meta.model_copy(update={"kwargs": {"width": 16}})
    save_model_dir(model, out, meta16)  # weights of width 8 saved under width 16
    (out / "model.json").write_text(meta16.model_dump_json())
    save_model_dir(model, tmp_path / "w8", meta)
    shutil.copy(tmp_path / "w8" / "model.safetensors", out / "model.safetensors")
    with pytest.raises(BundleError, match="do not fit model 'audio_cnn'"):
        load_model_dir(out)


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_export_and_load_bundle(tmp_path, suffix):
    run, models = _run_dir(tmp_path)
    out = export_bundle(run, tmp_path / f"model.emorec{suffix}")
    if suffix:
        assert zipfile.is_zipfile(out)
        assert set(zipfile.ZipFile(out).namelist()) == {
            "bundle.json",
            *(f"{k}/{f}" for k in models for f in ("model.json", "model.safetensors")),
        }
    b = load_bundle(out)
    assert b.info["format"] == "emorec-bundle" and b.info["version"] == 2
    assert b.classes == CLASSES and b.info["label_set"]["name"] == "iemocap4"
    assert b.info["source"]["fold"] == "session5"
    pp = b.info["preprocess"]
    assert pp["frame_size"] == 32 and pp["spec_size"] == [32, 96] and "root" not in pp
    assert pp["n_mels"] == 128  # PreprocessConfig defaults filled in
    assert list(b.models) == ["frame", "audio", "fusion"]
    x = _inputs()
    for key, (model, meta) in models.items():
        assert b.meta(key) == meta
        _same_outputs(model, b.model(key), x[key])


def test_export_flat_layout_fold_choice_and_overwrite(tmp_path):
    run, _ = _run_dir(tmp_path, folds=("a", "b"), layout="flat")
    with pytest.raises(BundleError, match=r"2 folds \(a, b\); choose one with --fold"):
        export_bundle(run, tmp_path / "out")
    with pytest.raises(BundleError, match="no fold 'c'; available: a, b"):
        export_bundle(run, tmp_path / "out", fold="c")
    out = export_bundle(run, tmp_path / "out", fold="b")
    assert load_bundle(out).info["source"]["fold"] == "b"
    export_bundle(run, tmp_path / "out", fold="a")  # an existing bundle is replaced
    assert load_bundle(out).info["source"]["fold"] == "a"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(BundleError, match="not a bundle; refusing to overwrite"):
        export_bundle(run, tmp_path / "other", fold="a")
    with pytest.raises(BundleError, match="no config.yaml"):
        export_bundle(tmp_path / "other", tmp_path / "x")


def test_export_rejects_mismatched_classes(tmp_path):
    run, models = _run_dir(tmp_path)
    meta = json.loads((run / "folds/session5/audio/model/model.json").read_text())
    meta["classes"] = ["a", "b", "c", "d"]
    (run / "folds/session5/audio/model/model.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="differ from"):
        export_bundle(run, tmp_path / "out")


def test_load_bundle_validation(tmp_path):
    run, _ = _run_dir(tmp_path)
    good = export_bundle(run, tmp_path / "good")
    with pytest.raises(BundleError, match="no such bundle"):
        load_bundle(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("hello")
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle(tmp_path / "f.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="no bundle.json"):
        load_bundle(tmp_path / "empty")

    def variant(name, change):
        d = tmp_path / name
        shutil.copytree(good, d)
        info = json.loads((d / BUNDLE_FILE).read_text())
        change(info, d)
        (d / BUNDLE_FILE).write_text(json.dumps(info))
        return d

    with pytest.raises(BundleError, match="format is 'zip'"):
        load_bundle(variant("fmt", lambda i, d: i.update(format="zip")))
    with pytest.raises(BundleError, match="bundle version 7 is newer than this emorec reads"):
        load_bundle(variant("ver", lambda i, d: i.update(version=7)))
    with pytest.raises(BundleError, match="leaves the bundle"):
        load_bundle(variant("esc", lambda i, d: i["models"].update(frame="../frame/")))
    with pytest.raises(BundleError, match="no model.safetensors"):
        load_bundle(variant("now", lambda i, d: (d / "audio" / "model.safetensors").unlink()))
    with pytest.raises(BundleError, match="differ from the bundle's"):
        load_bundle(variant("cls", lambda i, d: i["label_set"].update(classes=["x", "y", "z", "w"])))
    with pytest.raises(BundleError, match="must be a fusion model"):
        load_bundle(variant("key", lambda i, d: i["models"].update(extra="audio/")))

    # a zip of the bundle folder itself (top-level directory inside) loads too
    z = tmp_path / "folder.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in good.rglob("*"):
            if f.is_file():
                zf.write(f, "mybundle/" + f.relative_to(good).as_posix())
    assert list(load_bundle(z).models) == ["frame", "audio", "fusion"]


def test_export_command(tmp_path):
    from typer.testing import CliRunner

    from emorec.cli import app

    run, _ = _run_dir(tmp_path, folds=("a", "b"))
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--run", str(run), "--out", str(tmp_path / "m.zip"), "--fold", "b"])
    assert res.exit_code == 0, res.output
    assert "fold b, models: frame, audio, fusion, classes: neu, hap, sad, ang" in res.output
    assert load_bundle(tmp_path / "m.zip").info["source"]["fold"] == "b"
    res = runner.invoke(app, ["export", "--run", str(run), "--out", str(tmp_path / "m2")])
    assert res.exit_code == 2 and "choose one with --fold" in res.output


def _write_model(d, model, meta: dict):
    d.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / "model.safetensors"))
    (d / "model.json").write_text(json.dumps(meta))


def test_a_model_json_of_emorec_0_1_is_read_in_the_new_format(tmp_path):
    """Input settings spread over model.json and the preprocessing config become one InputMeta."""
    model = get_model("audio_cnn", 4, width=8)
    old = {
        "name": "audio_cnn",
        "modality": "audio",
        "num_classes": 4,
        "kwargs": {"width": 8},
        "classes": CLASSES,
        "input": {
            "kind": "spec",
            "recipe": "mel_mfcc_chroma",
            "normalise": "train",
            "egemaps": False,
            "spec_mean": [0.1, 0.2, 0.3],
            "spec_std": [1.0, 2.0, 3.0],
        },
    }
    _write_model(tmp_path / "m", model, old)
    _, meta = load_model_dir(tmp_path / "m", {"n_mels": 32, "spec_size": [32, 96], "sample_rate": 8000})
    inp = meta.input_meta
    assert inp.kind == "spec" and inp.options == {"normalise": "train"}
    assert inp.settings["spec_recipe"] == "mel_mfcc_chroma" and inp.settings["n_mels"] == 32
    assert inp.settings["sample_rate"] == 8000 and inp.settings["spec_size"] == [32, 96]
    assert [v[0][0] for v in inp.stats["mean"]] == pytest.approx([0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["kwargs"].update(hiden=8), "audio_cnn.*takes no argument 'hiden'"),
        (lambda m: m.update(name="no_such_model"), "unknown model 'no_such_model'"),
        (lambda m: m["input"]["settings"].update(n_mels="many"), "n_mels"),
        (lambda m: m["input"].update(options={"normalise": "sometimes"}), "normalise"),
        (lambda m: m.update(ensemble=0), "ensemble"),
    ],
)
def test_bad_model_json_is_a_bundle_error_naming_the_file(tmp_path, change, message):
    run, _ = _run_dir(tmp_path)
    good = export_bundle(run, tmp_path / "good")
    meta = json.loads((good / "audio" / "model.json").read_text())
    change(meta)
    (good / "audio" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=message) as e:
        load_bundle(good)
    assert "audio/model.json" in str(e.value)


@pytest.mark.parametrize("field", ["encoder", "tokenizer"])
def test_a_bundle_never_loads_an_encoder_from_a_path_it_names(tmp_path, field):
    """A text model whose encoder (or tokenizer) names a folder is refused before anything is read from there."""
    trap = tmp_path / "trap"
    trap.mkdir()
    (trap / "pytorch_model.bin").write_bytes(b"\x80\x04not a model")  # would reach an unpickler
    kind = PP.input("text")
    settings = dict(kind.settings.model_dump(mode="json"))
    kwargs = {"encoder": "minilm"}
    if field == "encoder":
        kwargs["encoder"] = str(trap)
    else:
        settings["tokenizer"] = str(trap)
    meta = {
        "name": "text",
        "modality": "text",
        "num_classes": 4,
        "kwargs": kwargs,
        "classes": CLASSES,
        "input": {"kind": "text", "settings": settings, "options": {}, "stats": None},
    }
    bundle = tmp_path / "b"
    _write_model(bundle / "text", torch.nn.Linear(1, 1), meta)
    (bundle / BUNDLE_FILE).write_text(
        json.dumps(
            {
                "format": "emorec-bundle",
                "version": 2,
                "models": {"text": "text/"},
                "label_set": {"name": "x", "classes": CLASSES},
            }
        )
    )
    with pytest.raises(BundleError, match=f"{field} .* is a path; a bundle loads text encoders only from installed"):
        load_bundle(bundle)


def test_a_saved_text_model_is_rebuilt_from_the_encoder_config_only(monkeypatch):
    """Rebuilding a saved text model reads no encoder weights (its own safetensors replace them)."""
    from transformers import AutoModel

    from emorec.models import get_model_checked

    def no_weights(*a, **k):
        raise AssertionError("encoder weights were loaded")

    monkeypatch.setattr(AutoModel, "from_pretrained", no_weights)
    model = get_model_checked("text", 4, for_saved=True, encoder="minilm")
    assert model.head.out_features == 4


def test_a_lazy_bundle_builds_each_model_when_first_used(tmp_path):
    run, models = _run_dir(tmp_path)
    out = export_bundle(run, tmp_path / "b.zip")
    lazy = load_bundle(out, lazy=True)
    assert lazy.models.loaded == [] and lazy.meta("audio").name == "audio_cnn"
    _same_outputs(models["audio"][0], lazy.model("audio"), _inputs()["audio"])
    assert lazy.models.loaded == ["audio"]
    from emorec.inference import Recognizer

    rec = Recognizer(load_bundle(out, lazy=True))
    y = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    rec.predict_utterance(audio=(y, 16000))
    assert "frame" not in rec.bundle.models.loaded  # a prediction without a frame never loads the frame model
