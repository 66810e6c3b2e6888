"""`fusion.crossfit_epochs: main_fit`: the epoch count read from a finished fit's log."""

import pandas as pd

from emorec.config import load_config
from emorec.training.unimodal import best_epochs, fixed_epochs


def write_log(path, **columns):
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"epoch": range(len(next(iter(columns.values())))), **columns}).to_csv(path / "metrics.csv")


def test_best_epochs_counts_up_to_the_first_best_score(tmp_path):
    write_log(tmp_path / "a", val_ua=[0.3, 0.5, 0.4, 0.5, 0.45], val_loss=[1.4, 1.2, 1.0, 1.1, 1.3])
    assert best_epochs(tmp_path / "a", "val_ua", 5) == 2  # the first of the two 0.5s, as the checkpoint keeps
    assert best_epochs(tmp_path / "a", "val_loss", 5) == 3  # a loss is best where it is lowest


def test_best_epochs_without_a_score_is_every_epoch_run(tmp_path):
    assert best_epochs(tmp_path / "none", "val_ua", 7) == 7
    write_log(tmp_path / "b", train_loss=[1.0, 0.9])
    assert best_epochs(tmp_path / "b", "val_ua", 2) == 2
    assert best_epochs(tmp_path / "b", "val_ua", 0) == 1


def test_fixed_epochs_turns_early_stopping_off_and_keeps_the_rest():
    mcfg = load_config("demo").models["audio"]
    fixed = fixed_epochs(mcfg, 7)
    assert (fixed.fit.epochs, fixed.fit.patience) == (7, None)
    assert fixed.fit.lr == mcfg.fit.lr and fixed.arch == mcfg.arch
    assert mcfg.fit.patience is not None  # the original is left as it was
