"""Several corpora read as one (e.g. CK+ and facial_expressions for one face recogniser).

    corpus: {name: concat, root: "", options: {parts: [{name: ckplus, root: ...}, {name: facial_expressions, root: ...}]}}

Each part is read by its own reader. Utterance ids, speakers and groups get the part's corpus name as a prefix
(so that no id or speaker of one part collides with another's, and splits by speaker stay within a corpus);
`corpus` keeps the part's own name, so a cross-corpus label set (basic7) maps each part's codes with its map.
"""

from __future__ import annotations

from dataclasses import replace

from emorec.corpora.records import CorpusData, Problem


def read(root: str = "", *, parts: list[dict]) -> CorpusData:
    from emorec.corpora.corpora import read_corpus

    if not parts:
        raise ValueError("concat corpus: `parts` must list at least one {name, root, options}")
    utterances, problems = [], []
    for part in parts:
        if not isinstance(part, dict) or "name" not in part or "root" not in part:
            raise ValueError(f"concat corpus: each part needs `name` and `root`, got {part!r}")
        if part["name"] == "concat":
            raise ValueError("concat corpus: a part cannot itself be a concat corpus")
        data = read_corpus(part["name"], part["root"], **(part.get("options") or {}))
        tag = part["name"]
        for u in data.utterances:
            utterances.append(
                replace(
                    u,
                    utt_id=f"{tag}:{u.utt_id}",
                    speaker=f"{tag}:{u.speaker or u.utt_id}",
                    group=f"{tag}:{u.group}" if u.group else tag,
                    dialog=f"{tag}:{u.dialog}" if u.dialog else "",
                    order=len(utterances),
                )
            )
        problems += [Problem(p.file, p.line, p.reason) for p in data.problems]
    return CorpusData("concat", str(root), utterances, problems)
