"""Input kinds for tests: built from settings alone, optionally with statistics fitted on given rows."""

from __future__ import annotations

from emorec.inputs import InputKind, input_class


def make_kind(name: str, stats: dict | None = None, options: dict | None = None, **settings) -> InputKind:
    return input_class(name)(settings, options, stats)


def fitted(name: str, arrays, rows, options: dict | None = None, **settings) -> InputKind:
    """The kind with the statistics of `rows` of `arrays` (as training fits them)."""
    kind = make_kind(name, options=options, **settings)
    return kind.with_stats(kind.fit_stats(arrays, rows))
