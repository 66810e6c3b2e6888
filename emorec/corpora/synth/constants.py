"""The vocabulary and the real corpus' statistics that the synthetic IEMOCAP imitates."""

from emorec.corpora.synth import face, voice

LABEL_CODES = ("neu", "hap", "sad", "ang", "fru", "exc", "sur", "fea", "dis", "oth", "xxx")
# Utterances per label in the real release (df_iemocap.csv), by dialog type.
REAL_COUNTS = {
    "impro": (1099, 284, 608, 289, 971, 663, 60, 8, 1, 1, 800),
    "script": (609, 311, 476, 814, 878, 378, 47, 32, 1, 2, 1707),
}
CATEGORY_NAMES = {
    "neu": "Neutral state",
    "hap": "Happiness",
    "sad": "Sadness",
    "ang": "Anger",
    "fru": "Frustration",
    "exc": "Excited",
    "sur": "Surprise",
    "fea": "Fear",
    "dis": "Disgust",
    "oth": "Other",
}
FOUR_CLASS = {"neu": "neu", "hap": "hap", "exc": "hap", "sad": "sad", "ang": "ang"}
# Mean valence, activation, dominance per label in the real release.
REAL_VAD = {
    "neu": (2.97, 2.73, 2.83),
    "hap": (3.95, 3.12, 2.92),
    "exc": (3.95, 3.58, 3.40),
    "sad": (2.25, 2.56, 2.83),
    "ang": (1.91, 3.64, 3.95),
    "fru": (2.26, 3.18, 3.32),
    "sur": (2.85, 3.22, 2.85),
    "fea": (2.50, 3.24, 2.37),
    "dis": (2.75, 2.00, 1.75),
    "oth": (3.28, 2.61, 2.17),
}
DURATION_FACTOR = {"neu": 0.9, "sad": 1.15, "sur": 0.7, "fea": 0.75, "exc": 1.05, "fru": 1.05}
OTHER_COMMENTS = ("disbelief", "sarcastic", "nervous", "confused", "amused", "bored", "tired")
ATTRIBUTE_COMMENTS = {
    "hap": "optimistic, cheerful",
    "exc": "enthusiastic, energetic",
    "sad": "discouraged, gloomy",
    "ang": "threatening, belligerent",
    "fru": "impatient, annoyed",
    "neu": "calm, polite",
}
SCRIPT_IDS = ("01_1", "02_1", "03_1", "01_2", "02_2", "03_2", "01_3", "02_3", "03_3")
MAX_DIALOGS = 16 + 2 * len(SCRIPT_IDS)
SAMPLE_RATE = voice.SAMPLE_RATE
FPS = face.FPS
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
