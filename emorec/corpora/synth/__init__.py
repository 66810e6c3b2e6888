"""Synthetic corpora in real release layouts, so every stage runs end to end without licensed data."""

from emorec.corpora.synth.iemocap import SynthConfig, generate_iemocap, summary

__all__ = ["SynthConfig", "generate_iemocap", "summary"]
