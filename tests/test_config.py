"""Experiment configs: every shipped config validates, overrides apply, mistakes are named."""

import pytest

from emorec.config import apply_overrides, builtin_config_dir, load_config

SHIPPED = sorted(p.stem for p in builtin_config_dir().glob("*.yaml"))


def test_configs_are_shipped():
    for name in ("demo", "iemocap_thesis", "iemocap_4class_loso", "iemocap_frame"):
        assert name in SHIPPED
    assert sum(n.startswith("iemocap_face_") for n in SHIPPED) >= 9


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_validates(name):
    cfg = load_config(name)
    assert cfg.name == name
    pp = cfg.preprocess_config()
    assert pp.corpus == cfg.corpus.name
    for key, model in cfg.models.items():
        assert key in ("frame", "audio", "text")
        from emorec.models import model_spec

        assert model_spec(model.arch).modality == key


def test_thesis_config_is_the_random_11_code_protocol():
    cfg = load_config("iemocap_thesis")
    assert cfg.split.kind == "random" and cfg.label_set == "iemocap11"
    assert load_config("iemocap_4class_loso").split.kind == "loso"


def test_overrides_parse_yaml_values():
    raw = apply_overrides({"models": {"frame": {"fit": {"epochs": 5}}}}, ["models.frame.fit.epochs=3", "split.test_groups=[4, 5]"])
    assert raw["models"]["frame"]["fit"]["epochs"] == 3
    assert raw["split"]["test_groups"] == [4, 5]
    cfg = load_config("demo", ["models.frame.fit.epochs=2", "split.kind=random"])
    assert cfg.models["frame"].fit.epochs == 2 and cfg.split.kind == "random"


def test_mistakes_are_named():
    with pytest.raises(ValueError, match="expects key=value"):
        apply_overrides({}, ["nonsense"])
    with pytest.raises(ValueError, match="modelz"):
        load_config("demo", ["modelz=1"])
    with pytest.raises(FileNotFoundError, match="shipped configs"):
        load_config("no_such_config")


def test_train_command_reports_a_bad_root_without_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from emorec.cli import app

    missing = tmp_path / "no_corpus"
    r = CliRunner().invoke(app, ["train", "--config", "demo", "--out", str(tmp_path / "run"),
                                 "--set", f"corpus.root={missing}", "--set", f"store_dir={tmp_path / 'stores'}"])
    assert r.exit_code == 2
    assert "no_corpus" in r.output and "Traceback" not in r.output
