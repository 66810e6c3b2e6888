"""Experiment configs (recipes): every shipped config validates, inheritance and variants, overrides, and every
mistake is reported before any work, with one message and exit code 2, leaving nothing behind."""

import pytest
import yaml
from typer.testing import CliRunner

from emorec.cli import app
from emorec.config import apply_overrides, load_config, merge, resolve_recipe, shipped_configs

SHIPPED = shipped_configs()


def test_configs_are_shipped():
    for name in ("demo", "iemocap_thesis", "iemocap_4class_loso", "iemocap_frame", "iemocap_face_resnet18_left"):
        assert name in SHIPPED
    assert sum(n.startswith("iemocap_face_") for n in SHIPPED) == 12  # the thesis's grid, from one file


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_validates(name):
    cfg = load_config(name)
    assert cfg.name == name
    for sub in [cfg.model_experiment(k) for k in cfg.enabled_models()] if cfg.pooled else [cfg]:
        assert sub.preprocess_config().corpus == sub.corpus.name
    for key, model in cfg.models.items():
        from emorec.models import model_spec

        assert model_spec(model.arch).modality == key


def test_the_face_grid_is_one_file_with_twelve_variants():
    cfg = load_config("iemocap_face_resnet50_both_balanced")
    frame = cfg.models["frame"]
    assert (frame.arch, frame.kwargs, frame.fit.balance, frame.fit.lr) == (
        "resnet50",
        {"weights": "imagenet"},
        "sampler",
        1e-4,
    )
    assert cfg.preprocess["crop"] == "full" and cfg.preprocess["frame_size"] == 224 and not cfg.fusion.enabled
    small = load_config("iemocap_face_small_cnn_left")
    assert small.models["frame"].kwargs == {} and small.models["frame"].fit.lr == 1e-3
    assert small.preprocess["crop"] == "left"


def test_base_inheritance_merges_mappings_and_replaces_marked_ones(tmp_path):
    assert merge({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]}) == {"a": {"x": 1, "y": 3}, "b": [2]}
    assert merge({"a": {"x": 1}}, {"a": {"_replace": True, "z": 0}}) == {"a": {"z": 0}}
    cv = load_config("ravdess_compare_speaker_cv")
    hold = load_config("ravdess_compare_speaker")
    assert cv.split.kind == "group_kfold" and cv.split.test_groups is None and hold.split.test_groups == ["11", "12"]
    assert cv.models == hold.models and cv.preprocess == hold.preprocess
    (tmp_path / "mine.yaml").write_text(
        yaml.safe_dump({"base": "demo", "name": "mine", "models": {"frame": {"fit": {"epochs": 2}}}})
    )
    mine = load_config(str(tmp_path / "mine.yaml"))
    assert (
        mine.models["frame"].fit.epochs == 2
        and mine.models["frame"].fit.lr == load_config("demo").models["frame"].fit.lr
    )
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({"base": "mine.yaml", "name": "child", "seed": 7}))
    child = load_config(str(tmp_path / "child.yaml"))  # a base path is relative to the file that names it
    assert child.seed == 7 and child.models["frame"].fit.epochs == 2
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump({"base": "loop.yaml", "name": "loop"}))
    with pytest.raises(ValueError, match="loops back"):
        resolve_recipe(str(tmp_path / "loop.yaml"))


def test_thesis_config_is_the_random_11_code_protocol():
    cfg = load_config("iemocap_thesis")
    assert cfg.split.kind == "random" and cfg.label_set == "iemocap11"
    assert load_config("iemocap_4class_loso").split.kind == "loso"


def test_overrides_parse_yaml_values():
    raw = apply_overrides(
        {"models": {"frame": {"fit": {"epochs": 5}}}}, ["models.frame.fit.epochs=3", "split.test_groups=[4, 5]"]
    )
    assert raw["models"]["frame"]["fit"]["epochs"] == 3
    assert raw["split"]["test_groups"] == [4, 5]
    cfg = load_config("demo", ["models.frame.fit.epochs=2", "split.kind=random"])
    assert cfg.models["frame"].fit.epochs == 2 and cfg.split.kind == "random"


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["modelz=1"], "modelz"),
        (["models.audio.kwargs={hiden: 8}"], "alexnet.*takes no argument 'hiden'"),
        (["models.frame.arch=resnet19"], "unknown model 'resnet19'"),
        (["models.frame.arch=alexnet"], "models.frame: 'alexnet' is a audio model"),
        (["label_set=iemocap5"], "unknown label set 'iemocap5'"),
        (["preprocess.n_mels=many"], "n_mels"),
        (["preprocess.crop=face_left"], "crop"),
        (["models.audio.augment={time_mask: 1}"], "unknown keys"),
        (["models.frame.augment={speed: 0.1}"], "speed/noise augmentation is for spectrograms"),
        (["models.text.normalise=speaker"], "normalise: speaker applies to spectrogram"),
        (["models.frame.input={frame_pick: best}"], "frame_pick"),
        (["fusion.kwargs={depth: 3}"], "fusion_transformer.*takes no argument 'depth'"),
        (["fusion.modalities=[frame, smell]"], "smell"),
    ],
)
def test_config_mistakes_are_named_at_load(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_config("demo", overrides)


def test_unknown_files_and_bad_overrides():
    with pytest.raises(ValueError, match="expects key=value"):
        apply_overrides({}, ["nonsense"])
    with pytest.raises(FileNotFoundError, match="shipped configs"):
        load_config("no_such_config")


def _train(tmp_path, *args):
    return CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), *args])


@pytest.mark.parametrize("case", ["yaml", "kwarg", "arch", "root", "labels", "split"])
def test_train_refuses_a_bad_config_before_any_work(tmp_path, case):
    """One message, exit code 2, no traceback, and no run folder or store written."""
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("name: x\nmodels: {frame: [unclosed\n")
    base = ["--set", f"store_dir={tmp_path / 'stores'}"]
    corpus = ["--set", f"corpus.root={tmp_path / 'no_corpus'}"]
    args = {
        "yaml": ["--config", str(bad_yaml)],
        "kwarg": ["--config", "demo", *base, "--set", "models.audio.kwargs={hiden: 8}"],
        "arch": ["--config", "demo", *base, "--set", "models.frame.arch=resnet19"],
        "root": ["--config", "demo", *base, *corpus],
        "labels": ["--config", "ravdess_audio", *base, "--set", "label_set={classes: [bored, sleepy]}"],
        "split": ["--config", "ravdess_audio", *base, "--set", "split.test_groups=['99']"],
    }[case]
    r = _train(tmp_path, *args)
    assert r.exit_code == 2, r.output
    assert r.output.count("error:") == 1 and "Traceback" not in r.output
    expected = {
        "yaml": "bad.yaml:3: invalid YAML",
        "kwarg": "hiden",
        "arch": "resnet19",
        "root": "no_corpus",
        "labels": "bored",
        "split": "99",
    }[case]
    assert expected in r.output
    assert not (tmp_path / "run").exists() and not (tmp_path / "stores").exists()
