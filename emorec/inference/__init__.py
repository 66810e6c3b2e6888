"""Inference: bundles, segmentation, the Recognizer, results and timelines."""
