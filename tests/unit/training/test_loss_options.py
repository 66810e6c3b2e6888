"""Focal loss and layer-wise learning-rate decay (`fit.loss`, `fit.layer_decay`)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emorec.models import get_model
from emorec.training.fit import fit
from emorec.training.fit_config import FitConfig
from emorec.training.module import EmotionClassifier, focal_loss
from support.toy import C, egemaps_data, egemaps_sets

torch.set_num_threads(1)


def test_focal_loss_is_cross_entropy_at_gamma_0_and_smaller_on_easy_examples():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(64, C, generator=g) * 3, torch.randint(0, C, (64,), generator=g)
    assert focal_loss(logits, y, 0.0) == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    w = torch.tensor([1.0, 2.0, 0.5, 1.5])
    per = F.cross_entropy(logits, y, reduction="none") * w[y]
    assert focal_loss(logits, y, 0.0, w) == pytest.approx(per.mean().item(), rel=1e-6)
    easy = torch.zeros(1, C)
    easy[0, 0] = 8.0
    target = torch.tensor([0])
    assert focal_loss(easy, target, 2.0) < 1e-3 * F.cross_entropy(easy, target)


def test_a_model_trained_with_focal_loss_learns(tmp_path):
    arrays, y = egemaps_data(160)
    train, val = egemaps_sets(arrays, y, np.arange(120), np.arange(120, 160))
    cfg = FitConfig(epochs=8, batch_size=16, loss="focal", patience=None, monitor="val_acc", enable_progress_bar=False)
    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / "f")
    assert result.best_score > 0.6  # chance 1/C


def test_layer_decay_gives_lower_layers_geometrically_lower_rates():
    model = get_model("text", C, pretrained=False)
    module = EmotionClassifier(model, C, lr=1e-4, layer_decay=0.5)
    groups = module._param_groups()
    n_layers = len(model.encoder.encoder.layer)
    assert len(groups) == n_layers + 2  # embeddings, each layer, pooler + head
    assert [g["lr"] for g in groups] == pytest.approx([1e-4 * 0.5 ** (n_layers + 1 - i) for i in range(n_layers + 2)])
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len([p for p in model.parameters() if p.requires_grad])
    assert any(p is model.head.weight for p in groups[-1]["params"])
    frozen = get_model("text", C, pretrained=False, freeze_encoder=True)
    assert [g["lr"] for g in EmotionClassifier(frozen, C, lr=1e-4, layer_decay=0.5)._param_groups()] == [1e-4]
    plain = EmotionClassifier(get_model("egemaps_mlp", C), C, lr=1e-3, layer_decay=0.5)._param_groups()
    assert len(plain) == 1 and plain[0]["lr"] == 1e-3  # a model without layer groups: one rate


def test_mixup_blends_the_batch_and_a_model_trained_with_it_learns(tmp_path):
    model = get_model("egemaps_mlp", C)
    module = EmotionClassifier(model, C, mixup=0.4)
    module.log = lambda *a, **k: None
    seen = []
    module.forward = lambda x: seen.append(x) or model(x)
    x, y = torch.randn(16, 88), torch.arange(16) % C
    torch.manual_seed(0)
    loss = module.training_step((x, y), 0)
    assert torch.isfinite(loss) and not torch.allclose(seen[0], x)  # the model saw a blend, not the batch
    arrays, labels = egemaps_data(160)
    train, val = egemaps_sets(arrays, labels, np.arange(120), np.arange(120, 160))
    cfg = FitConfig(epochs=8, batch_size=16, mixup=0.4, patience=None, monitor="val_acc", enable_progress_bar=False)
    result = fit(get_model("egemaps_mlp", C), train, val, C, cfg, tmp_path / "m")
    assert result.best_score > 0.6  # chance 1/C
