"""Transcript sentences: emotion-bearing clauses mixed with neutral fillers, occasional non-verbal tags.

A sentence carries its expressed emotion through a core clause; `neutral_rate` of sentences have no core
clause at all, and `word_noise` swaps emotion words for another emotion's words, so text is informative
but ambiguous.
"""

from __future__ import annotations

import numpy as np

# Core clauses per emotion; {w} is filled from the emotion's word list (or, with word noise, another's).
CLAUSES: dict[str, list[str]] = {
    "neu": [
        "I think it's at {w} o'clock.",
        "We can go over it {w}.",
        "It's the one by the {w}.",
        "I'll call you {w}.",
        "The form goes to the {w} office.",
        "Did you check the {w}?",
        "That's what it says on the {w}.",
        "I was just asking about the {w}.",
        "It opens {w}, I believe.",
        "You need to fill in the {w} first.",
    ],
    "hap": [
        "That's so {w}!",
        "I'm really {w} for you.",
        "This is {w}, honestly.",
        "You look {w} today.",
        "Oh, that's {w}.",
        "I love it, it's {w}.",
        "We had such a {w} time.",
        "It's {w} to see you.",
    ],
    "exc": [
        "Oh my God, this is {w}!",
        "I can't believe it, it's {w}!",
        "We did it, that's {w}!",
        "Are you serious? That's {w}!",
        "This is going to be {w}!",
        "I'm so {w} I can't sit still!",
    ],
    "sad": [
        "I just feel so {w}.",
        "It's been {w} since he left.",
        "I miss him, it's {w}.",
        "Nothing is the same, it's all {w}.",
        "I don't know, I'm {w}.",
        "It was so {w} at the funeral.",
    ],
    "ang": [
        "Don't you dare be {w} with me!",
        "This is {w} and you know it!",
        "I'm sick of your {w} excuses!",
        "Get out, this is {w}!",
        "How could you be so {w}?",
        "You're {w}, you hear me?",
    ],
    "fru": [
        "I've been waiting forever, this is {w}.",
        "Why is everything so {w} here?",
        "I already told you, it's {w}.",
        "It's {w}, I keep filling out the same form.",
        "Can't anyone do anything? It's {w}.",
    ],
    "sur": [
        "Wait, what? That's {w}!",
        "Really? I had no idea, that's {w}.",
        "No way, that's {w}!",
        "You're kidding me, it's {w}.",
    ],
    "fea": [
        "I'm {w}, what if something happens?",
        "Please, I'm really {w}.",
        "Did you hear that? I'm {w}.",
        "It's {w} out there, don't go.",
    ],
    "dis": ["Ugh, that's {w}.", "That's just {w}, I can't look at it.", "It smells {w} in here."],
    "oth": ["Well, that's {w}, I suppose.", "Huh. {w}, isn't it?", "I guess it's {w}."],
}
WORDS: dict[str, list[str]] = {
    "neu": ["three", "later", "window", "tomorrow", "main", "schedule", "desk", "back", "front", "first"],
    "hap": ["wonderful", "happy", "lovely", "great", "sweet", "beautiful", "fun", "nice"],
    "exc": ["amazing", "incredible", "fantastic", "awesome", "thrilled", "unbelievable"],
    "sad": ["sad", "empty", "lonely", "hopeless", "awful", "miserable", "heartbroken"],
    "ang": ["furious", "outrageous", "ridiculous", "pathetic", "disgraceful", "unacceptable"],
    "fru": ["annoying", "pointless", "impossible", "unbelievably slow", "useless", "exhausting"],
    "sur": ["unexpected", "shocking", "wild", "crazy"],
    "fea": ["scared", "terrified", "afraid", "frightening"],
    "dis": ["gross", "disgusting", "revolting", "nasty"],
    "oth": ["strange", "odd", "weird", "funny"],
}
NEUTRAL_WORDS = ["fine", "okay", "normal", "the same", "usual", "alright"]  # a neutral word in an emotion clause
NEUTRAL_CLAUSES = [
    "I don't know.",
    "What do you mean?",
    "Okay.",
    "Yeah.",
    "I mean, I guess.",
    "Right.",
    "So what now?",
    "Let me see.",
    "Is that right?",
    "Sure.",
    "I was going to say that.",
    "Where did you put it?",
    "We'll see.",
    "Hold on a second.",
    "You know what I mean?",
    "It's about the same.",
    "Uh-huh.",
    "Mm-hmm.",
    "I heard you.",
    "Come here.",
]
OPENERS = ["Well,", "So,", "Look,", "I mean,", "You know,", "Oh,", "Hey,", "Yeah,", "Okay,", "Um,"]
TAGS = {
    "[LAUGHTER]": {"hap": 0.18, "exc": 0.22, "*": 0.02},
    "[BREATHING]": {"sad": 0.08, "fea": 0.08, "*": 0.02},
    "[GARBAGE]": {"*": 0.01},
}


def _lower_first(s: str) -> str:
    return s[0].lower() + s[1:] if s and not s.startswith("I ") and not s.startswith("I'") else s


def make_sentence(emotion: str, rng: np.random.Generator, word_noise: float = 0.15, neutral_rate: float = 0.2) -> str:
    """A transcript line expressing `emotion` (an IEMOCAP code other than 'xxx')."""
    parts: list[str] = []
    if rng.random() < 0.35:
        parts.append(str(rng.choice(OPENERS)))
    core: str | None = None
    if rng.random() >= neutral_rate:
        template = str(rng.choice(CLAUSES[emotion]))
        source = emotion
        if rng.random() < word_noise:
            source = str(rng.choice([e for e in WORDS if e != emotion]))
        words = NEUTRAL_WORDS if source == "neu" and emotion != "neu" else WORDS[source]
        core = template.replace("{w}", str(rng.choice(words)))
    n_fill = int(rng.choice([0, 1, 2], p=[0.45, 0.4, 0.15])) if core else int(rng.choice([1, 2], p=[0.6, 0.4]))
    fillers = [str(f) for f in rng.choice(NEUTRAL_CLAUSES, n_fill, replace=False)]
    body = fillers + ([core] if core else [])
    if core and len(body) > 1 and rng.random() < 0.5:
        body = [core] + fillers
    if parts:
        body[0] = _lower_first(body[0])
    parts.extend(body)
    for tag, probs in TAGS.items():
        if rng.random() < probs.get(emotion, probs["*"]):
            parts.insert(int(rng.integers(0, len(parts) + 1)), tag)
    return " ".join(parts)
