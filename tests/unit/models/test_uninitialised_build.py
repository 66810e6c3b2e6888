"""Saved models are built without computing random weights that their file replaces; nothing else is affected."""

import threading
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from emorec.models import list_models
from emorec.models.saved import (
    _skip_random_init,
    build_saved_architecture,
    build_saved_architecture_uninitialised,
)


def _seeded_linear():
    torch.manual_seed(0)
    return nn.Linear(64, 32).weight.detach().clone()


def test_initialisers_are_skipped_only_inside_the_mode_and_only_in_its_thread():
    expected = _seeded_linear()
    other = {}
    with _skip_random_init():
        torch.manual_seed(0)
        state = torch.random.get_rng_state()
        nn.Linear(64, 32)
        assert torch.equal(torch.random.get_rng_state(), state)  # no random number drawn
        thread = threading.Thread(target=lambda: other.update(w=_seeded_linear()))
        thread.start()
        thread.join()
    assert torch.equal(other["w"], expected)
    assert torch.equal(_seeded_linear(), expected)


@pytest.mark.parametrize(
    "name,kwargs",
    [("resnet18", {}), ("alexnet", {}), ("audio_crnn", {}), ("fusion_transformer", {}), ("mix_mlp", {})],
)
def test_uninitialised_build_holds_the_same_tensors_once_loaded(name, kwargs):
    assert name in list_models()
    meta = SimpleNamespace(name=name, num_classes=4, kwargs=kwargs, ensemble=1)
    torch.manual_seed(0)
    reference = build_saved_architecture(meta, "test")
    model = build_saved_architecture_uninitialised(meta, "test")
    assert model.state_dict().keys() == reference.state_dict().keys()
    model.load_state_dict(reference.state_dict(), strict=True)
    for (k, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), k
    buffers = dict(reference.named_buffers())  # those computed when built too (not saved)
    for k, b in model.named_buffers():
        assert torch.equal(b, buffers[k]), k
