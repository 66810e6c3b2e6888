"""Train/validation/test splits over utterances, each fold with a statement of speaker and script leakage.

Kinds: `loso` (leave one group out; IEMOCAP: one session), `session` (explicit test groups), `random`
(seeded utterance split, leaks speakers), `official` (the corpus' own train/dev/test), `group_kfold`
(k folds over groups, e.g. RAVDESS actors). Validation always comes from the training side.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Literal

import pydantic

from emorec.corpora.records import Utterance

_VAL_NAMES = {"dev", "val", "valid", "validation"}


class SplitSpec(pydantic.BaseModel):
    """The `split:` config block."""

    model_config = pydantic.ConfigDict(extra="forbid")

    kind: Literal["loso", "session", "random", "official", "group_kfold"] = "loso"
    test_groups: list[str] | None = None  # session: groups held out for test, e.g. ["5"]
    train_groups: list[str] | None = None  # session: training groups (default: all the others)
    val_groups: list[str] | None = None  # validation groups, taken from the training side
    # how validation is chosen when val_groups is None; group_fraction: whole groups, about val_fraction of it
    val_by: Literal["speaker", "fraction", "group_fraction"] = "speaker"
    k: int = pydantic.Field(5, ge=2)  # group_kfold folds
    val_fraction: float = pydantic.Field(0.1, ge=0.0, lt=1.0)  # val share: val_by="fraction", random, official
    test_size: float | int = 800  # random: test utterances (int) or share (float < 1)
    seed: int = 0
    folds: list[int] | None = None  # run only these fold indices

    @pydantic.field_validator("test_groups", "train_groups", "val_groups", mode="before")
    @classmethod
    def _as_strings(cls, v):
        if v is None:
            return v
        return [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])]


@dataclass
class Leakage:
    shared_speakers: list[str]
    shared_scripts: list[str]
    speaker_independent: bool
    statement: str


@dataclass
class Fold:
    name: str
    train: list[str]
    val: list[str]
    test: list[str]
    leakage: Leakage

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def make_folds(utterances: list[Utterance], spec: SplitSpec) -> list[Fold]:
    """The folds of `spec` over `utterances` (ids in corpus order inside each part)."""
    if not utterances:
        raise ValueError("cannot split an empty list of utterances")
    plans = _KINDS[spec.kind](utterances, spec)
    chosen = range(len(plans))
    if spec.folds is not None:
        bad = [i for i in spec.folds if not 0 <= i < len(plans)]
        if bad:
            raise ValueError(f"split folds {bad} out of range: there are {len(plans)} folds (0..{len(plans) - 1})")
        chosen = spec.folds
    return [_fold(plans[i][0], *plans[i][1]()) for i in chosen]


# ---- kinds: each returns [(name, build)]; build() gives (train, val, test) lists of Utterance ----


def _loso(utts, spec):
    groups = _groups(utts)
    if len(groups) < 2:
        raise ValueError(f"loso needs at least 2 groups, found {groups}")
    return [(f"loso-{g}", partial(_hold_out, utts, spec, f"loso-{g}", {g})) for g in groups]


def _hold_out(utts, spec, name, test_set):
    """Test = the groups in `test_set`; validation from the remaining groups."""
    test = [u for u in utts if u.group in test_set]
    rest = [u for u in utts if u.group not in test_set]
    val_groups = [x for x in spec.val_groups or [] if x not in test_set]
    if spec.val_groups is not None and not val_groups:
        raise ValueError(f"fold {name}: val_groups {spec.val_groups} leave no validation group")
    train, val = _take_val(rest, spec, name, val_groups or None)
    return train, val, test


def _session(utts, spec):
    groups = _groups(utts)
    if not spec.test_groups:
        raise ValueError("split kind 'session' needs test_groups, e.g. test_groups: ['5']")
    _check_known("test_groups", spec.test_groups, groups)
    _check_known("train_groups", spec.train_groups or [], groups)
    _check_known("val_groups", spec.val_groups or [], groups)
    test_set = set(spec.test_groups)
    clash = test_set & set((spec.train_groups or []) + (spec.val_groups or []))
    if clash:
        raise ValueError(f"groups {sorted(clash)} are both test and train/validation groups")
    train_set = set(spec.train_groups or groups) - test_set
    train_set |= set(spec.val_groups or [])
    test = [u for u in utts if u.group in test_set]
    rest = [u for u in utts if u.group in train_set]
    name = "session-" + "+".join(spec.test_groups)
    train, val = _take_val(rest, spec, name, spec.val_groups)
    return [(name, lambda: (train, val, test))]


def _random(utts, spec):
    n = len(utts)
    size = spec.test_size
    n_test = int(round(size * n)) if isinstance(size, float) and size < 1 else int(size)
    if not 0 < n_test < n:
        raise ValueError(f"random split: test_size {size} gives {n_test} test utterances out of {n}")
    order = list(range(n))
    random.Random(spec.seed).shuffle(order)
    test_idx = set(order[:n_test])
    test = [u for i, u in enumerate(utts) if i in test_idx]
    rest = [u for i, u in enumerate(utts) if i not in test_idx]
    train, val = _fraction_val(rest, spec.val_fraction, spec.seed)
    return [("random", lambda: (train, val, test))]


def _official(utts, spec):
    missing = sum(1 for u in utts if not u.split)
    if missing == len(utts):
        raise ValueError("split kind 'official' needs utterances with an official split (train/dev/test); none has one")
    train = [u for u in utts if u.split == "train"]
    val = [u for u in utts if u.split in _VAL_NAMES]
    test = [u for u in utts if u.split == "test"]
    if not train or not test:
        raise ValueError(f"official split: {len(train)} train and {len(test)} test utterances; both are needed")
    if not val:  # no dev part in the corpus: a stratified share of train
        train, val = _fraction_val(train, spec.val_fraction, spec.seed)
    return [("official", lambda: (train, val, test))]


def _group_kfold(utts, spec):
    groups = _groups(utts)
    if spec.k > len(groups):
        raise ValueError(f"group_kfold: k={spec.k} folds but only {len(groups)} groups")
    size = defaultdict(int)
    for u in utts:
        size[u.group] += 1
    shuffled = groups[:]
    random.Random(spec.seed).shuffle(shuffled)
    tiebreak = {g: i for i, g in enumerate(shuffled)}
    fold_groups: list[list[str]] = [[] for _ in range(spec.k)]
    fold_size = [0] * spec.k
    for g in sorted(groups, key=lambda g: (-size[g], tiebreak[g])):  # largest group into the smallest fold
        i = min(range(spec.k), key=lambda j: (fold_size[j], j))
        fold_groups[i].append(g)
        fold_size[i] += size[g]
    return [
        (f"kfold-{i}", partial(_hold_out, utts, spec, f"kfold-{i}", set(test_groups)))
        for i, test_groups in enumerate(fold_groups)
    ]


_KINDS = {"loso": _loso, "session": _session, "random": _random, "official": _official, "group_kfold": _group_kfold}


# ---- validation ----


def _take_val(rest, spec, fold_name, val_groups):
    if val_groups:
        vs = set(val_groups)
        return [u for u in rest if u.group not in vs], [u for u in rest if u.group in vs]
    if spec.val_by == "group_fraction" and spec.val_fraction > 0:
        vs = _val_group_share(rest, spec.val_fraction, spec.seed, fold_name)
        return [u for u in rest if u.group not in vs], [u for u in rest if u.group in vs]
    if spec.val_by == "speaker":
        speaker = _val_speaker(rest, spec.seed, fold_name)
        if speaker is not None:
            return [u for u in rest if u.speaker != speaker], [u for u in rest if u.speaker == speaker]
    return _fraction_val(rest, spec.val_fraction, spec.seed)


def _val_speaker(rest, seed, fold_name) -> str | None:
    """One training-side speaker, chosen by seed and fold: first a group, then a speaker in it."""
    speakers_by_group = defaultdict(set)
    for u in rest:
        if u.speaker:
            speakers_by_group[u.group].add(u.speaker)
    if sum(len(s) for s in speakers_by_group.values()) < 2:
        return None  # no speakers known or only one: fall back to a fraction
    rng = random.Random(f"{seed}/{fold_name}")
    group = rng.choice(natural_sorted(speakers_by_group))
    return rng.choice(sorted(speakers_by_group[group]))


def _val_group_share(rest, fraction, seed, fold_name) -> set[str]:
    """Whole training-side groups, drawn by seed and fold, until they hold `fraction` of its utterances
    (at least one group, never all of them)."""
    size = defaultdict(int)
    for u in rest:
        size[u.group] += 1
    groups = natural_sorted(size)
    random.Random(f"{seed}/{fold_name}/groups").shuffle(groups)
    chosen, count = set(), 0
    for g in groups[:-1]:
        if count >= fraction * len(rest):
            break
        chosen.add(g)
        count += size[g]
    return chosen


def _fraction_val(rest, fraction, seed):
    """A seeded share of `rest`, stratified by label."""
    if fraction <= 0:
        return list(rest), []
    rng = random.Random(seed + 1)
    by_label = defaultdict(list)
    for i, u in enumerate(rest):
        by_label[u.label].append(i)
    val_idx = set()
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        val_idx.update(idx[: int(round(len(idx) * fraction))])
    return [u for i, u in enumerate(rest) if i not in val_idx], [u for i, u in enumerate(rest) if i in val_idx]


# ---- leakage ----


def _fold(name, train, val, test) -> Fold:
    return Fold(
        name,
        [u.utt_id for u in train],
        [u.utt_id for u in val],
        [u.utt_id for u in test],
        leakage(train + val, test, kind=name),
    )


def leakage(train_side: list[Utterance], test: list[Utterance], kind: str = "") -> Leakage:
    """Speakers and scripts found both in training/validation and in test, with a plain statement."""
    train_speakers = {u.speaker for u in train_side if u.speaker}
    test_speakers = {u.speaker for u in test if u.speaker}
    train_scripts = {u.script for u in train_side if u.script}
    test_scripts = {u.script for u in test if u.script}
    shared_speakers = natural_sorted(train_speakers & test_speakers)
    shared_scripts = natural_sorted(train_scripts & test_scripts)
    unknown = sum(1 for u in test if not u.speaker)
    independent = not shared_speakers and unknown == 0
    prefix = "random utterance split" if kind == "random" else f"fold {kind}" if kind else "split"
    if unknown:
        speaker_part = (
            f"{unknown} of {len(test)} test utterances have no speaker, so speaker independence cannot be checked"
        )
        if shared_speakers:
            speaker_part += f"; {len(shared_speakers)} known test speakers also appear in training"
    elif shared_speakers:
        speaker_part = (
            f"{len(shared_speakers)} of {len(test_speakers)} test speakers also appear in training "
            f"({_listing(shared_speakers)}); results are not speaker-independent"
        )
    else:
        speaker_part = (
            f"speaker-independent: none of the {len(test_speakers)} test speakers "
            f"({_listing(natural_sorted(test_speakers))}) appears in training or validation"
        )
    if shared_scripts:
        script_part = (
            f"{len(shared_scripts)} of {len(test_scripts)} test scripts are also read in training "
            f"({_listing(shared_scripts)}): the same sentences occur on both sides"
        )
    elif test_scripts:
        script_part = "no test script is read in training"
    else:
        script_part = ""
    statement = f"{prefix}: {speaker_part}" + (f"; {script_part}" if script_part else "") + "."
    return Leakage(shared_speakers, shared_scripts, independent, statement)


def _listing(items: list[str], limit: int = 6) -> str:
    return ", ".join(items) if len(items) <= limit else ", ".join(items[:limit]) + f", ... {len(items) - limit} more"


def _groups(utts) -> list[str]:
    return natural_sorted({u.group for u in utts})


def natural_sorted(items) -> list[str]:
    return sorted(items, key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(s))])


def _check_known(what, given, groups):
    unknown = [g for g in given if g not in groups]
    if unknown:
        raise ValueError(f"split {what}: unknown groups {unknown}; known: {groups}")


def load_split_spec(value: str | dict | SplitSpec | None) -> SplitSpec | None:
    """A SplitSpec from a kind name ('loso', 'random', ...), 'session:5' (test groups), a YAML file
    (settings at the top level or under `split:`) or a dict."""
    if value is None or isinstance(value, SplitSpec):
        return value
    if isinstance(value, dict):
        return SplitSpec(**value.get("split", value))
    if value.endswith((".yaml", ".yml")):
        from pathlib import Path

        from emorec.corpora.textfile import read_yaml

        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"split file not found: {path}")
        spec = read_yaml(path) or {}
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: expected a mapping of split settings")
        return SplitSpec(**(spec.get("split") or spec))
    kinds = list(_KINDS)
    if value.startswith("session:"):  # shorthand: session:5 or session:4,5
        return SplitSpec(kind="session", test_groups=[g for g in value.split(":", 1)[1].split(",") if g])
    if value not in kinds:
        raise ValueError(f"unknown split {value!r}; kinds: {', '.join(kinds)}; or give a .yaml file")
    return SplitSpec(kind=value)
