"""The backbones declared in emorec.models.backbones are torchvision's: same parameters, same seeded
initialisation, same outputs; and building them does not import torchvision."""

import subprocess
import sys

import pytest
import torch
from torchvision import models as tvm

import emorec.models as registry
from emorec.models.backbones import AlexNet, MobileNetV2, resnet18_arch, resnet50_arch

PAIRS = {
    "resnet18": (resnet18_arch, tvm.resnet18),
    "resnet50": (resnet50_arch, tvm.resnet50),
    "alexnet": (AlexNet, tvm.alexnet),
    "mobilenet_v2": (MobileNetV2, tvm.mobilenet_v2),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_seeded_build_has_torchvisions_parameters_and_values(name):
    ours_ctor, tv_ctor = PAIRS[name]
    torch.manual_seed(7)
    ours = ours_ctor().state_dict()
    torch.manual_seed(7)
    theirs = tv_ctor(weights=None).state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].shape == theirs[key].shape, key
        assert torch.equal(ours[key], theirs[key]), key


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_torchvision_weights_give_the_same_outputs(name):
    ours_ctor, tv_ctor = PAIRS[name]
    theirs = tv_ctor(weights=None).eval()
    ours = ours_ctor().eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 80, 80)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_every_builtin_model_is_found_in_its_own_module():
    registry._load_builtin()
    builtin = {
        n: s.builder.__module__ for n, s in registry._REGISTRY.items() if s.builder.__module__.startswith("emorec.")
    }
    assert builtin == registry._BUILTIN_MODELS


def test_frame_and_audio_models_build_without_importing_torchvision():
    # ImageNet weights from the hub cache are the one thing that imports torchvision (its weights enums)
    code = (
        "import sys\n"
        "from emorec.models import get_model\n"
        "get_model('resnet18', 4); get_model('alexnet', 4, hidden=64); get_model('mobilenet_v2', 4)\n"
        "assert 'torchvision' not in sys.modules, 'torchvision was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
