"""Label sets as data: named sets in `label_sets.yaml` or a user's YAML file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from emorec.corpora.records import Utterance


@dataclass(frozen=True)
class LabelSet:
    name: str
    classes: tuple[str, ...]
    map: dict[str, str] = field(default_factory=dict)
    corpus: str = ""
    # cross-corpus sets: corpus name -> its own map (codes of one corpus may mean something else in another)
    maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self):
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"label set {self.name!r}: duplicate classes {list(self.classes)}")
        for where, m in [("map", self.map), *((f"maps.{c}", m) for c, m in self.maps.items())]:
            bad = {k: v for k, v in m.items() if v not in self.classes}
            if bad:
                raise ValueError(f"label set {self.name!r}: {where} targets not among classes: {bad}")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_class(self, code: str, corpus: str = "") -> str | None:
        """The class a corpus code belongs to, or None when the code is outside this set."""
        code = self.maps.get(corpus, self.map).get(code, code)
        return code if code in self.classes else None

    def index(self, code: str, corpus: str = "") -> int | None:
        c = self.to_class(code, corpus)
        return None if c is None else self.classes.index(c)

    def apply(self, utterances: list[Utterance]) -> tuple[list[Utterance], Counter]:
        """Utterances inside the set (labels rewritten to classes) and a count of dropped codes."""
        kept, dropped = [], Counter()
        for u in utterances:
            c = self.to_class(u.label, u.corpus)
            if c is None:
                dropped[u.label] += 1
            else:
                kept.append(_with_label(u, c))
        return kept, dropped

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "classes": list(self.classes),
            "map": dict(self.map),
            "corpus": self.corpus,
            "maps": {c: dict(m) for c, m in self.maps.items()},
        }


def _with_label(u: Utterance, label: str) -> Utterance:
    if u.label == label:
        return u
    from dataclasses import replace

    return replace(u, label=label)


@lru_cache(maxsize=1)
def _builtin() -> dict[str, dict]:
    text = resources.files("emorec.corpora").joinpath("label_sets.yaml").read_text()
    return yaml.safe_load(text)


def builtin_label_sets() -> list[str]:
    return list(_builtin())


def _from_spec(name: str, spec: dict) -> LabelSet:
    if not isinstance(spec, dict) or "classes" not in spec:
        raise ValueError(f"label set {name!r} needs a 'classes' list")
    return LabelSet(
        name=name,
        classes=tuple(str(c) for c in spec["classes"]),
        map={str(k): str(v) for k, v in (spec.get("map") or {}).items()},
        corpus=str(spec.get("corpus", "")),
        maps={str(c): {str(k): str(v) for k, v in (m or {}).items()} for c, m in (spec.get("maps") or {}).items()},
    )


def get_label_set(name_or_path: str | dict) -> LabelSet:
    """A built-in set by name, a YAML file (`name:` optional, `classes:`, `map:`), or an inline dict."""
    if isinstance(name_or_path, dict):
        return _from_spec(str(name_or_path.get("name", "custom")), name_or_path)
    sets = _builtin()
    if name_or_path in sets:
        return _from_spec(name_or_path, sets[name_or_path])
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        if not path.exists():
            raise FileNotFoundError(f"label set file not found: {path}")
        from emorec.corpora.textfile import read_yaml

        spec = read_yaml(path)
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: a label set file holds a mapping with 'classes:' (and 'map:', 'name:')")
        return _from_spec(str(spec.get("name", path.stem)), spec)
    raise KeyError(f"unknown label set {name_or_path!r}; built-in: {', '.join(sets)}; or give a .yaml file")
