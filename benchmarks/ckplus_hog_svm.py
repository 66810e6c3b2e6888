"""Reference for the CK+ face model: HOG features + linear SVM on the folds of the shipped `ckplus_face` config.

    python benchmarks/ckplus_hog_svm.py [--root ../shared/data/faces/ckplus48] [--config ckplus_face]

Same corpus reader, label set and subject-independent folds as `emorec train --config ckplus_face` (10 folds by
subject); the SVM trains on each fold's training and validation parts and is scored on its test part. HOG:
OpenCV, 48x48 window, 16x16 blocks, 8x8 stride and cells, 9 orientations (900 values), standardised; C = 0.1.
Prints each fold's accuracy and, as its last line, `accuracy: MEAN +- STD` (sample std over folds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def hog_features(paths: list[str]) -> np.ndarray:
    import cv2

    hog = cv2.HOGDescriptor((48, 48), (16, 16), (8, 8), (8, 8), 9)
    out = []
    for p in paths:
        img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise ValueError(f"{p}: not a readable image")
        out.append(hog.compute(cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)).ravel())
    return np.asarray(out, dtype=np.float32)


def main() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from emorec.config import load_config
    from emorec.corpora.corpora import read_corpus
    from emorec.corpora.labels import get_label_set
    from emorec.corpora.splits import make_folds

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="ckplus_face")
    ap.add_argument("--root", default=None, help="CK+48 folder (default: the config's corpus.root)")
    ap.add_argument("--C", type=float, default=0.1)
    args = ap.parse_args()
    started = time.perf_counter()
    cfg = load_config(args.config)
    data = read_corpus(cfg.corpus.name, args.root or cfg.corpus.root, **cfg.corpus.options)
    utts, _ = get_label_set(cfg.label_set).apply(data.utterances)
    index = {u.utt_id: i for i, u in enumerate(utts)}
    X, y = hog_features([u.video_path for u in utts]), np.array([u.label for u in utts])
    accs = []
    for fold in make_folds(utts, cfg.split):
        train = [index[i] for i in fold.train + fold.val]
        test = [index[i] for i in fold.test]
        clf = make_pipeline(StandardScaler(), LinearSVC(C=args.C, max_iter=20000)).fit(X[train], y[train])
        accs.append(float(np.mean(clf.predict(X[test]) == y[test])))
        print(f"{fold.name}: accuracy {accs[-1]:.3f} ({len(test)} test images)")
    print(f"time: {time.perf_counter() - started:.1f} s")
    print(f"accuracy: {np.mean(accs):.3f} +- {np.std(accs, ddof=1):.3f}")


if __name__ == "__main__":
    main()
