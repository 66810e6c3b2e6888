"""Fusion of the unimodal classifiers: alignment of their outputs by utterance id, the fusion transformer (trained
on aligned out-of-fold outputs), and calibrated log-linear pooling (for recognisers trained on different corpora)."""

from emorec.fusion.align import MODALITIES, Aligned, align
from emorec.fusion.calibration import fit_temperature
from emorec.fusion.pooling import LogLinearPool
from emorec.fusion.transformer import FusionTransformer

__all__ = ["Aligned", "align", "MODALITIES", "FusionTransformer", "LogLinearPool", "fit_temperature"]
