"""Every registered model builds, maps its input to (N, C) logits and learns a small synthetic task."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from emorec.models import get_model, list_models, model_spec
from emorec.models.resnet import PretrainedWeightsMissing
from emorec.training.datasets import FusionDataset, StoreDataset
from emorec.training.fit import FitConfig, fit, load_best, predict_proba
from support.kinds import fitted

torch.set_num_threads(1)  # the CPUs are shared: more threads only contend
C = 4
EXPECTED = {
    "resnet18": "frame",
    "resnet50": "frame",
    "small_cnn": "frame",
    "alexnet": "audio",
    "audio_cnn": "audio",
    "egemaps_mlp": "audio",
    "compare_mlp": "audio",
    "audio_crnn": "audio",
    "audio_mobilenet": "audio",
    "mix_mlp": "audio",
    "speech_emb_mlp": "audio",
    "text": "text",
    "fusion_transformer": "fusion",
    "log_linear_pool": "fusion",
}
# fixed combiners: nothing to train; they are checked on what they combine instead
UNTRAINED = {"log_linear_pool"}
# kwargs used in the learning test (defaults elsewhere): AlexNet's 2 x 4096 fully connected layers (58M weights)
# take minutes on a CPU, so its learning test uses the same convolutional trunk with a 256-wide head.
LEARN_KWARGS = {"alexnet": {"hidden": 256}}
LEARN_LR = {"alexnet": 3e-4, "text": 1e-4, "mobilenet_v2": 3e-3, "audio_mobilenet": 3e-3}
LEARN_EPOCHS = {
    "alexnet": 4,
    "text": 3,
    "fusion_transformer": 8,
    "egemaps_mlp": 6,
    "compare_mlp": 6,
    "resnet50": 5,
    "mobilenet_v2": 8,
    "audio_mobilenet": 8,
    "mix_mlp": 6,
    "speech_emb_mlp": 6,
    "audio_crnn": 4,
}
LEARN_BATCH = {"alexnet": 8, "fusion_transformer": 32}
# ResNet-50's batch-norm statistics need ~30 steps to settle on these tiny images
LEARN_TRAIN = {"text": 48, "fusion_transformer": 320, "resnet50": 128, "mobilenet_v2": 192, "audio_mobilenet": 192}

WORDS = [
    ["happy", "glad", "joyful", "delighted"],
    ["sad", "unhappy", "miserable", "gloomy"],
    ["angry", "furious", "mad", "annoyed"],
    ["calm", "fine", "okay", "relaxed"],
]
TEMPLATES = [
    "i am so {} today",
    "she looked {} after the call",
    "they were {} about it",
    "honestly it made me {}",
    "we felt {} all week",
    "he seems {} now",
]


def frames_task(n, rng, size=32):
    """Class c brightens one colour channel in quadrant c of a noisy image."""
    y = rng.integers(0, C, n)
    x = rng.normal(110, 40, (n, 1, size, size, 3))
    h = size // 2
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, 0, r * h : (r + 1) * h, q * h : (q + 1) * h, c % 3] += 100
    return {"frames": np.clip(x, 0, 255).astype(np.uint8)}, y


def spec_task(n, rng, f=32, t=64):
    """Class c raises frequency band c of a noisy spectrogram."""
    y = rng.integers(0, C, n)
    x = rng.normal(0, 1, (n, 3, f, t)) + 3.0
    b = f // C
    for i, c in enumerate(y):
        x[i, :, c * b : (c + 1) * b, :] += 2.5
    return {"spec": x.astype(np.float16)}, y


def functionals_task(n, rng, name="egemaps", dim=88, per_class=8):
    """Class-dependent means on `per_class` features per class, among `dim` features of very different scales."""
    y = rng.integers(0, C, n)
    scale = 10.0 ** rng.uniform(-2, 3, dim)
    x = rng.normal(0, 1, (n, dim))
    x[:, : per_class * C] += 1.5 * np.repeat(np.eye(C)[y], per_class, axis=1)
    return {name: (x * scale + 5 * scale).astype(np.float32)}, y


def speech_mix_task(n, rng):
    """ComParE as in its own task (redundant class features) and class features among the speech_embedding
    values, drawn for the same labels; eGeMAPS is noise of mixed scales."""
    arrays, y = functionals_task(n, rng, "compare", 6373, per_class=200)
    x = rng.normal(0, 1, (n, 384))
    x[:, : 8 * C] += 1.5 * np.repeat(np.eye(C)[y], 8, axis=1)
    arrays["speech_emb"] = x.astype(np.float32)
    arrays["egemaps"] = (rng.normal(0, 1, (n, 88)) * 10.0 ** rng.uniform(-2, 3, 88)).astype(np.float32)
    return arrays, y


def text_task(n, rng):
    """Sentences carrying one of four emotion words per class."""
    from transformers import AutoTokenizer

    from emorec.models.encoders import resolve_encoder

    y = rng.integers(0, C, n)
    sents = [TEMPLATES[rng.integers(len(TEMPLATES))].format(WORDS[c][rng.integers(4)]) for c in y]
    tok = AutoTokenizer.from_pretrained(resolve_encoder("minilm"))
    enc = tok(sents, padding="max_length", truncation=True, max_length=12, return_tensors="np")
    return {"input_ids": enc["input_ids"].astype(np.int32), "attention_mask": enc["attention_mask"].astype(np.uint8)}, y


def fusion_task(n, rng, m=3):
    """Noisy one-hot-ish vectors: each modality is reliable on some classes, near random on the others."""
    y = rng.integers(0, C, n)
    reliable = [{0, 1}, {2, 3}, {1, 2}][:m]
    X = np.zeros((n, m, C), dtype=np.float32)
    for i, c in enumerate(y):
        for j in range(m):
            hit = rng.random() < (0.9 if c in reliable[j] else 0.35)
            k = c if hit else rng.choice([d for d in range(C) if d != c])
            logits = rng.normal(0, 0.7, C)
            logits[k] += 2.0
            X[i, j] = np.exp(logits) / np.exp(logits).sum()
    return X, y


TASKS = {
    "frames": frames_task,
    "spec": spec_task,
    "egemaps": functionals_task,
    "text": text_task,
    "compare": lambda n, rng: functionals_task(n, rng, "compare", 6373, per_class=200),  # redundant like ComParE
    "speech_emb": lambda n, rng: functionals_task(n, rng, "speech_emb", 384, per_class=16),
    "speech_mix": speech_mix_task,
}


def make_datasets(name, rng, n_train, n_test, n_val=0):
    """Train, validation and test datasets of the synthetic task matching the model's input kind."""
    kind = model_spec(name).input_kind
    n = n_train + n_val + n_test
    parts = np.split(np.arange(n), [n_train, n_train + n_val])
    tr = parts[0]
    if kind == "fusion":
        X, y = fusion_task(n, rng)
        return [FusionDataset(X[r], None, y[r]) for r in parts], y[parts[2]]
    arrays, y = TASKS[kind](n, rng)
    input_kind = fitted(kind, arrays, tr)
    return [StoreDataset(arrays, r, y[r], input_kind) for r in parts], y[parts[2]]


def test_log_linear_pooling_beats_each_modality_it_pools():
    """Pooled, the three noisy modalities of the fusion task are right more often than any one alone; a modality
    masked out drops out; temperatures > 1 flatten a modality's vote."""
    X, y = fusion_task(400, np.random.default_rng(3))
    pool = get_model("log_linear_pool", C, num_modalities=3).eval()
    with torch.no_grad():
        pooled = pool({"x": torch.from_numpy(X), "mask": torch.ones(400, 3, dtype=torch.bool)}).argmax(1).numpy()
        alone = [float(np.mean(X[:, m].argmax(1) == y)) for m in range(3)]
        assert float(np.mean(pooled == y)) > max(alone) + 0.05, (alone, float(np.mean(pooled == y)))
        mask = torch.tensor([[True, False, False]] * 400)
        only_first = pool({"x": torch.from_numpy(X), "mask": mask}).argmax(1).numpy()
        assert (only_first == X[:, 0].argmax(1)).all()
        hot = get_model("log_linear_pool", C, num_modalities=3, temperatures=[5.0, 1.0, 1.0])
        flat = torch.softmax(hot({"x": torch.from_numpy(X[:1]), "mask": torch.tensor([[True, False, False]])}), 1)
        assert float(flat.max()) < float(X[0, 0].max())


def test_temperature_scaling_fixes_overconfidence():
    from emorec.fusion.calibration import fit_temperature, nll

    rng = np.random.default_rng(4)
    y = rng.integers(0, C, 2000)
    logits = rng.normal(0, 1, (2000, C))
    logits[np.arange(2000), y] += 1.0
    sharp = np.exp(4 * logits) / np.exp(4 * logits).sum(1, keepdims=True)  # right ~50 %, sure of itself
    t = fit_temperature(sharp, y)
    assert 3.0 < t < 5.5 and nll(sharp, y, t) < nll(sharp, y, 1.0) - 0.2


def test_registry_has_every_model_with_its_modality():
    assert set(EXPECTED) <= set(list_models())
    for name, modality in EXPECTED.items():
        assert model_spec(name).modality == modality
    assert list_models("audio") == [
        "alexnet",
        "audio_cnn",
        "audio_crnn",
        "audio_mobilenet",
        "compare_mlp",
        "egemaps_mlp",
        "mix_mlp",
        "speech_emb_mlp",
    ]
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        get_model("nope", 4)


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_and_backward(name):
    L.seed_everything(0)
    (train_ds, _, _), _ = make_datasets(name, np.random.default_rng(1), 4, 0)
    model = get_model(name, C)
    assert model.modality == model_spec(name).modality and model.model_name == name
    x = torch.utils.data.default_collate([train_ds[i][0] for i in range(4)])
    out = model(x)
    assert out.shape == (4, C)
    if name in UNTRAINED:
        assert not any(p.requires_grad for p in model.parameters())
        return
    out.logsumexp(1).mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads[-2:])


@pytest.mark.parametrize("name", sorted(set(list_models()) - UNTRAINED))
def test_model_learns_synthetic_task(name, tmp_path):
    rng = np.random.default_rng(0)
    n_train = LEARN_TRAIN.get(name, 64)
    (train_ds, val_ds, test_ds), y_test = make_datasets(name, rng, n_train, 48, n_val=32)
    L.seed_everything(0)
    model = get_model(name, C, **LEARN_KWARGS.get(name, {}))
    cfg = FitConfig(
        epochs=LEARN_EPOCHS.get(name, 3),
        batch_size=LEARN_BATCH.get(name, 16),
        lr=LEARN_LR.get(name, 1e-3),
        patience=None,
        enable_progress_bar=False,
    )
    result = fit(model, train_ds, val_ds, C, cfg, tmp_path / name)
    best = load_best(get_model(name, C, **LEARN_KWARGS.get(name, {})), result.best_ckpt)
    probs = predict_proba(best, test_ds)
    assert probs.shape == (len(y_test), C)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    acc = float(np.mean(probs.argmax(1) == y_test))
    assert acc >= 0.6, f"{name}: held-out accuracy {acc:.2f} (chance 0.25)"


@pytest.mark.parametrize("size", [(64, 128), (128, 128), (40, 100), (32, 48)])
def test_alexnet_handles_spectrogram_sizes(size):
    model = get_model("alexnet", 3).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, *size)).shape == (2, 3)


def test_imagenet_weights_missing_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(PretrainedWeightsMissing) as err:
        get_model("resnet18", 4, weights="imagenet")
    msg = str(err.value)
    assert str(expected) in msg and "weights: none" in msg
    with pytest.raises(PretrainedWeightsMissing, match="alexnet-owt-7be5be79.pth"):
        get_model("alexnet", 4, weights="imagenet")
    with pytest.raises(ValueError, match="weights must be one of"):
        get_model("resnet18", 4, weights="imagnet")


def test_imagenet_weights_load_from_the_hub_cache(tmp_path, monkeypatch):
    from torchvision.models import resnet18

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(3)
    reference = resnet18(weights=None).state_dict()
    path = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True)
    torch.save(reference, path)
    model = get_model("resnet18", 5, weights="imagenet")
    assert torch.equal(model.conv1.weight, reference["conv1.weight"])
    assert model.fc.out_features == 5


def test_text_model_can_freeze_its_encoder():
    model = get_model("text", 3, freeze_encoder=True, pooling="cls")
    assert not any(p.requires_grad for p in model.encoder.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.train()
    assert not model.encoder.training


def test_text_model_trims_padding_and_caches_a_frozen_encoder():
    torch.manual_seed(0)
    ids = torch.randint(1000, 2000, (6, 24))
    mask = torch.ones(6, 24, dtype=torch.long)
    mask[:, 10:] = 0
    ids[:, 10:] = 0
    model = get_model("text", 3, freeze_encoder=True).eval()
    ref = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    expected = model.head((ref * m).sum(1) / m.sum(1))
    first = model({"input_ids": ids, "attention_mask": mask})
    assert torch.allclose(first, expected, atol=1e-5)
    assert len(model._cache) == 6
    again = model({"input_ids": ids[[2, 0]], "attention_mask": mask[[2, 0]]})
    assert torch.allclose(again, first[[2, 0]]) and len(model._cache) == 6


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_text_model_encodes_a_batch_by_length_chunks_to_the_same_vectors(pooling):
    from emorec.models.text import LENGTH_CHUNK

    torch.manual_seed(0)
    n, width = 3 * LENGTH_CHUNK + 3, 30
    lengths = torch.randint(2, width + 1, (n,))
    mask = (torch.arange(width)[None] < lengths[:, None]).long()
    ids = torch.randint(1000, 2000, (n, width)) * mask
    model = get_model("text", 3, pooling=pooling).eval()
    passes = []
    model.encoder.register_forward_hook(lambda module, args, kwargs, out: passes.append(1), with_kwargs=True)
    with torch.no_grad():
        whole = model._encode_cut(ids, mask)  # one pass, cut to the longest sequence
        chunked = model.encode(ids, mask)
        assert len(passes) == 1 + 4  # 27 sequences of mixed lengths: 4 chunks
        model.encode(ids, torch.ones_like(mask))  # lengths alike: chunks would save no padding
        assert len(passes) == 1 + 4 + 1
    assert chunked.shape == whole.shape
    assert torch.allclose(chunked, whole, atol=1e-5)
    assert not torch.allclose(chunked, whole[torch.randperm(n)], atol=1e-3)
