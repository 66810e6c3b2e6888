"""Corpus readers by name. Each reader module exposes `read(root, **options) -> CorpusData`."""

from __future__ import annotations

import importlib

from emorec.corpora.records import CorpusData

READERS = {
    "iemocap": "emorec.corpora.iemocap",
    "meld": "emorec.corpora.meld",
    "ravdess": "emorec.corpora.ravdess",
    "cremad": "emorec.corpora.cremad",
    "manifest": "emorec.corpora.manifest",
    "ckplus": "emorec.corpora.ckplus",
    "facial_expressions": "emorec.corpora.facial_expressions",
    "concat": "emorec.corpora.concat",
}


def corpus_names() -> list[str]:
    return list(READERS)


def read_corpus(name: str, root: str, **options) -> CorpusData:
    """Read a corpus by name; unknown names list the known ones."""
    if name not in READERS:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(READERS)}")
    return importlib.import_module(READERS[name]).read(root, **options)
