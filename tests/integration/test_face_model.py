"""MobileNetV2 with offline ImageNet weights, still images as one-frame videos, frame augmentation, and a
fast real-data check that the face pipeline learns CK+ expressions of subjects it never saw."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from emorec.config import load_config
from emorec.corpora.ckplus import read as read_ckplus
from emorec.inputs.augment import random_affine
from emorec.inputs.frames import IMAGENET_MEAN, IMAGENET_STD
from emorec.media.video import probe, read_frames
from emorec.models import get_model, list_models, mobilenet
from emorec.models.resnet import PretrainedWeightsMissing
from emorec.training.datasets import StoreDataset
from support.kinds import make_kind


@pytest.fixture(scope="module")
def weights_file() -> Path:
    path = mobilenet.packaged_weights_file()
    if path is None:
        pytest.skip(f"ImageNet weights package not installed ({mobilenet.WEIGHTS_PIP})")
    return path


@pytest.fixture(scope="module")
def ck_root(shared_data) -> Path:
    return shared_data / "faces" / "ckplus48"


def _images(utterances, size: int = 64) -> torch.Tensor:
    """CK+ images as the frame pipeline feeds them: gray -> RGB, resized, ImageNet-normalised."""
    from PIL import Image

    rgb = [np.array(Image.open(u.video_path).convert("RGB").resize((size, size), Image.BILINEAR)) for u in utterances]
    x = torch.from_numpy(np.stack(rgb)).permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def test_mobilenet_is_a_registered_frame_model():
    assert "mobilenet_v2" in list_models("frame")
    model = get_model("mobilenet_v2", 5, dropout=0.0)
    assert model.modality == "frame" and model.input_kind == "frames"
    assert model(torch.randn(2, 3, 48, 48)).shape == (2, 5)


def test_imagenet_weights_load_weights_only_and_match_torchvision(weights_file, monkeypatch):
    from torchvision.models import mobilenet_v2

    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    torch.manual_seed(0)
    model = get_model("mobilenet_v2", 7, weights="imagenet").eval()
    assert calls and all(k.get("weights_only") is True for k in calls)
    reference = mobilenet_v2(weights=None)
    reference.load_state_dict(real_load(weights_file, map_location="cpu", weights_only=True))
    reference.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = model.embed(x)
        theirs = torch.nn.functional.adaptive_avg_pool2d(reference.features(x), 1).flatten(1)
        untrained = get_model("mobilenet_v2", 7).eval().embed(x)
    torch.testing.assert_close(ours, theirs)
    assert not torch.allclose(ours, untrained, atol=1e-2)


def test_imagenet_features_tell_expressions_of_unseen_subjects_apart(weights_file, ck_root):
    """Nearest class mean over the pooled features (the last image of each sequence), subjects split in three:
    ImageNet features separate four expressions well above chance and clearly better than a random start."""
    utts = read_ckplus(ck_root, expressions=("anger", "happy", "sadness", "surprise")).utterances
    utts = list({u.dialog: u for u in utts}.values())  # corpus order: the last frame of a sequence wins
    x, y = _images(utts), np.array([u.label for u in utts])
    test = np.array([int(u.speaker[1:]) % 3 == 0 for u in utts])
    scores = {}
    for weights in ("imagenet", "none"):
        torch.manual_seed(0)
        model = get_model("mobilenet_v2", 4, weights=weights).eval()
        with torch.no_grad():
            e = torch.nn.functional.normalize(model.embed(x), dim=1).numpy()
        classes = sorted(set(y))
        means = np.stack([e[~test & (y == c)].mean(0) for c in classes])
        scores[weights] = float(np.mean(np.array(classes)[(e[test] @ means.T).argmax(1)] == y[test]))
    assert scores["imagenet"] >= 0.62 and scores["imagenet"] - scores["none"] >= 0.08, scores  # measured 0.67 / 0.55


def test_weights_fall_back_to_the_hub_cache_and_say_what_to_install(weights_file, tmp_path, monkeypatch):
    monkeypatch.setattr(mobilenet, "packaged_weights_file", lambda: None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(PretrainedWeightsMissing) as err:
        get_model("mobilenet_v2", 3, weights="imagenet")
    msg = str(err.value)
    assert "\n" not in msg and mobilenet.WEIGHTS_PIP in msg and "weights: none" in msg
    cached = tmp_path / "hub" / "checkpoints" / weights_file.name
    cached.parent.mkdir(parents=True)
    shutil.copyfile(weights_file, cached)
    assert mobilenet.imagenet_weights_path() == cached
    get_model("mobilenet_v2", 3, weights="imagenet")
    cached.write_bytes(cached.read_bytes()[:-10] + b"0123456789")  # damaged copy
    with pytest.raises(ValueError, match="does not match"):
        get_model("mobilenet_v2", 3, weights="imagenet")


def test_frozen_blocks_keep_their_weights_and_statistics():
    torch.manual_seed(0)
    model = get_model("mobilenet_v2", 3, freeze=4).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    torch.nn.functional.cross_entropy(model(torch.randn(8, 3, 48, 48)), torch.arange(8) % 3).backward()
    opt.step()
    after = model.state_dict()
    frozen = [k for k in before if k.startswith(("features.0.", "features.1.", "features.2.", "features.3."))]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert not torch.equal(before["features.4.conv.0.0.weight"], after["features.4.conv.0.0.weight"])
    assert not torch.equal(before["features.4.conv.0.1.running_mean"], after["features.4.conv.0.1.running_mean"])
    with pytest.raises(ValueError, match="freeze"):
        get_model("mobilenet_v2", 3, freeze=20)


def test_a_still_image_is_a_one_frame_video(ck_root, shared_data):
    png = next((ck_root / "happy").glob("*.png"))
    jpg = shared_data / "faces" / "facial_expressions" / "images" / "HrithikRoshan_1.jpg"
    for path, (w, h) in ((png, (48, 48)), (jpg, (102, 87))):
        info = probe(path)
        assert (info.n_frames, info.width, info.height) == (1, w, h)
        frame = read_frames(path, [0]).frames[0]
        assert frame.shape == (h, w, 3)
        assert np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2])


def test_random_affine_is_small_and_seeded():
    x = torch.rand(3, 48, 48)
    rng = np.random.default_rng
    torch.testing.assert_close(random_affine(x, rng(0)), x, atol=1e-5, rtol=0)
    a = random_affine(x, rng(1), rotate=10, zoom=0.1, shift=0.1)
    assert a.shape == x.shape and not torch.allclose(a, x)
    torch.testing.assert_close(a, random_affine(x, rng(1), rotate=10, zoom=0.1, shift=0.1))
    frames = {"frames": (np.random.default_rng(0).random((4, 1, 32, 32, 3)) * 255).astype(np.uint8)}
    plain = StoreDataset(frames, [0, 1], [0, 1], make_kind("frames"))[0][0]
    moved = StoreDataset(frames, [0, 1], [0, 1], make_kind("frames"), augment={"rotate": 15, "shift": 0.1})[0][0]
    assert plain.shape == moved.shape == (3, 32, 32) and not torch.allclose(plain, moved)


def test_ckplus_face_pipeline_learns_unseen_subjects(weights_file, ck_root, tmp_path):
    """happy / surprise / sadness, one fold of five by subject, 48 px, 3 epochs, through run_experiment."""
    from emorec.training.experiment import run_experiment

    torch.set_num_threads(1)
    cfg = load_config(
        "ckplus_face",
        [
            f"corpus.root={ck_root}",
            f"store_dir={tmp_path / 'stores'}",
            "corpus.options={expressions: [happy, surprise, sadness]}",
            "label_set={name: ckplus3, classes: [happy, surprise, sadness]}",
            "split.k=5",
            "split.folds=[0]",
            "preprocess.frame_size=48",
            "models.frame.fit.epochs=3",
            "models.frame.fit.lr=0.002",
        ],
    )
    metrics = run_experiment(cfg, tmp_path / "run")
    frame = metrics["frame"]
    assert metrics["speaker_independent"] and frame["n_test"] >= 80
    assert frame["accuracy"] >= 0.8 and frame["unweighted_accuracy"] >= 0.7, frame  # majority 0.50; measured 0.94
    assert (tmp_path / "run" / "folds" / "kfold-0" / "frame" / "model" / "model.safetensors").is_file()
