"""One progress display for a training run: a bar over the run's units (a model of a fold, a fusion) showing the
fit and epoch under way, one summary line per finished fit, and the full log in the run directory (train.log).

    with RunProgress(units=7, log_file=run_dir / "train.log"):
        ...  # every `fit` inside reports to it; Lightning's own per-batch bars stay off
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback
from tqdm import tqdm

from emorec.training.distributed import is_global_zero

_ACTIVE: RunProgress | None = None


def run_progress() -> RunProgress | None:
    """The progress display of the run under way, if any."""
    return _ACTIVE


def fit_label(out_dir: Path) -> str:
    """`fold/model/fit` from a fit folder `.../folds/<fold>/<model>/<fit>`."""
    parts = Path(out_dir).parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(out_dir)


class _FitCallback(Callback):
    def __init__(self, progress: RunProgress, label: str):
        self.progress, self.label = progress, label
        self.started = time.perf_counter()

    def on_train_start(self, trainer, pl_module):
        self.started = time.perf_counter()
        self.progress.show(f"{self.label} epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")

    def on_train_epoch_end(self, trainer, pl_module):
        m = trainer.callback_metrics
        score = " ".join(f"{k} {float(m[k]):.3f}" for k in ("val_ua", "val_loss") if k in m)
        self.progress.show(f"{self.label} epoch {trainer.current_epoch + 1}/{trainer.max_epochs} {score}")

    def on_train_end(self, trainer, pl_module):
        best = trainer.checkpoint_callback.best_model_score if trainer.checkpoint_callback else None
        monitor = getattr(trainer.checkpoint_callback, "monitor", None)
        what = f", best {monitor} {float(best):.3f}" if best is not None else ""
        self.progress.note(
            f"{self.label}: {trainer.current_epoch} epochs{what}, {time.perf_counter() - self.started:.0f} s"
        )


class RunProgress:
    def __init__(self, units: int, log_file: Path | None = None, stream=None):
        self.enabled = is_global_zero()
        self.stream = stream or sys.stderr
        self.bar = tqdm(
            total=units,
            unit="unit",
            desc="train",
            file=self.stream,
            dynamic_ncols=True,
            disable=not self.enabled,
            bar_format="{desc} |{bar:20}| {n_fmt}/{total_fmt} units [{elapsed}]",
        )
        self.log_file, self._handler = log_file, None

    def __enter__(self) -> RunProgress:
        global _ACTIVE
        _ACTIVE = self
        if self.log_file is not None and self.enabled:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._handler = logging.FileHandler(self.log_file, encoding="utf-8")
            self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logging.getLogger().addHandler(self._handler)
            for name in ("lightning.pytorch", "lightning.fabric"):  # their messages go to the log, not the terminal
                logging.getLogger(name).propagate = True
        return self

    def __exit__(self, *exc) -> None:
        global _ACTIVE
        _ACTIVE = None
        self.bar.close()
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()

    def callback(self, out_dir: Path) -> Callback:
        return _FitCallback(self, fit_label(out_dir))

    def show(self, text: str) -> None:
        self.bar.set_description_str(f"train {text}", refresh=True)

    def note(self, line: str) -> None:
        """A line above the bar, and in the log (once on the terminal: the bar's line is not logged there too)."""
        if not self.enabled:
            logging.getLogger("emorec.train").info(line)
            return
        self.bar.write(line, file=self.stream)
        if self._handler is not None:
            self._handler.handle(logging.LogRecord("emorec.train", logging.INFO, __file__, 0, line, None, None))

    def unit_done(self) -> None:
        self.bar.update(1)
