"""Fusion of the unimodal classifiers: alignment of their outputs, cross-fitting and the fusion transformer."""

from emorec.training.datasets import FusionDataset
from emorec.fusion.align import MODALITIES, Aligned, align
from emorec.training.crossfit import kfold_indices, out_of_fold_predict
from emorec.fusion.transformer import FusionTransformer

__all__ = ["Aligned", "align", "MODALITIES", "FusionTransformer", "FusionDataset", "kfold_indices",
           "out_of_fold_predict"]
