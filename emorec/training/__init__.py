"""Training: the Lightning module and fit loop, store datasets, unimodal fits with cross-fitting, experiments, evaluation, metrics, reports."""
