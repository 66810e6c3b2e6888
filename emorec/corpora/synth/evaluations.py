"""What the evaluators of a synthetic utterance say: categorical votes and valence/arousal/dominance ratings,
as the lines of an IEMOCAP EmoEvaluation block."""

from __future__ import annotations

import numpy as np

from emorec.corpora.synth.constants import (
    ATTRIBUTE_COMMENTS,
    CATEGORY_NAMES,
    OTHER_COMMENTS,
    REAL_VAD,
)


def attributes(intended: str, evaluators: list[int], has_self: bool, gender: str, rng: np.random.Generator):
    means = np.array(REAL_VAD[intended])
    ids = [f"A-E{e}" for e in evaluators[: 2 + int(rng.random() < 0.3)]]
    if has_self:
        ids.append(f"A-{gender}1")
    scores = {i: tuple(int(v) for v in np.clip(np.round(rng.normal(means, 0.7)), 1, 5)) for i in ids}
    outside = [v for i, v in scores.items() if i.startswith("A-E")]
    vad = tuple(float(np.mean([s[k] for s in outside])) for k in range(3))
    return vad, scores


def evaluator_lines(
    label: str,
    intended: str,
    evaluators: list[int],
    has_self: bool,
    gender: str,
    attributes: dict,
    rng: np.random.Generator,
) -> tuple[list[str], dict[str, str]]:
    """Categorical and attribute lines whose majority gives `label` ('xxx': no majority)."""
    ids = [f"C-E{e}" for e in evaluators]
    names = [n for c, n in CATEGORY_NAMES.items() if c != intended]
    votes: list[str]
    if label == "xxx":
        others = [str(x) for x in rng.choice(names, len(ids) - 1, replace=False)]
        votes = [CATEGORY_NAMES[intended]] + others
        rng.shuffle(votes)
        if rng.random() < 0.05:
            votes[-1] = ""
    else:
        main = CATEGORY_NAMES[label]
        agree = len(ids) if rng.random() < 0.45 else len(ids) - 1
        second = str(rng.choice(names))
        votes = [main] * agree + [second] * (len(ids) - agree)
        if agree == len(ids) and rng.random() < 0.15:  # one evaluator also ticks a second category
            votes[int(rng.integers(0, len(ids)))] = f"{main}; {second}"
        rng.shuffle(votes)
    if has_self:
        ids.append(f"C-{gender}1")
        votes.append(CATEGORY_NAMES[intended] if rng.random() < 0.7 else str(rng.choice(names)))
    lines, categorical = [], {}
    for i, v in zip(ids, votes):
        comment = f"({rng.choice(OTHER_COMMENTS)})" if "Other" in v else "()"
        field_ = f"{v};" if v else ";"
        lines.append(f"{i}:\t{field_}\t{comment}")
        categorical[i] = f"{field_} {comment}"
    for i, (v, a, d) in attributes.items():
        comment = f"({ATTRIBUTE_COMMENTS[intended]})" if intended in ATTRIBUTE_COMMENTS and rng.random() < 0.2 else "()"
        lines.append(f"{i}:\tval {v}; act {a}; dom  {d};\t{comment}")
    return lines, categorical


# --------------------------------------------------------------------------------------------- text files
