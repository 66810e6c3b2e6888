"""The run's progress display: one bar, one line per finished fit, the full log in the run directory."""

from __future__ import annotations

import io
import logging

from emorec.training.progress import RunProgress


def test_a_fit_summary_shows_once_on_the_terminal_and_goes_to_the_log(tmp_path):
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    terminal = io.StringIO()
    try:
        with RunProgress(2, tmp_path / "train.log", stream=terminal) as progress:
            progress.note("fold-0/audio/fit: 3 epochs, best val_ua 0.500, 1 s")
            logging.getLogger("emorec.train").info("fold fold-0: 10 train / 2 val / 4 test")
            progress.unit_done()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    shown = terminal.getvalue() + console.getvalue()
    assert shown.count("fold-0/audio/fit: 3 epochs") == 1
    log = (tmp_path / "train.log").read_text()
    assert "fold-0/audio/fit: 3 epochs" in log and "10 train / 2 val / 4 test" in log
