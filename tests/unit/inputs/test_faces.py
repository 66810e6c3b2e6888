"""The `faces` input kind: the speaker's aligned face from BlazeFace, in preprocessing and in prediction."""

from __future__ import annotations

import pytest

from emorec.corpora.records import Utterance
from emorec.inference import Recognizer, build_untrained_bundle
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.run import preprocess_utterances

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def clips(shared_data):
    clips = sorted((shared_data / "ravdess_av").glob("*.mp4"))
    if not clips:
        pytest.skip("RAVDESS audio-visual clips missing")
    return clips


def test_store_holds_the_aligned_face_of_each_clip(clips, tmp_path):
    utts = [
        Utterance(utt_id=c.stem, corpus="clip", label="x", video_path=str(c), audio_path=str(c), dialog=c.stem, order=i)
        for i, c in enumerate(clips)
    ]
    cfg = PreprocessConfig(
        corpus="clip", out=str(tmp_path), modalities=["frame"], faces=True, face_size=64, face_frames=3, frame_size=32
    )
    store = preprocess_utterances(utts, cfg, progress=False, store_dir=tmp_path / "store")
    faces = store.array("faces")
    assert faces.shape == (3, 1, 64, 64, 3)
    assert store.manifest.face_found.all() and (store.manifest.status_frame == "ok").all()
    # a face crop is mostly skin, not the grey studio wall the whole frame shows
    whole = store.array("frames")[:, 0].reshape(3, -1, 3).astype(float)
    crop = faces[:, 0].reshape(3, -1, 3).astype(float)
    assert (crop[..., 0] - crop[..., 2]).mean() > (whole[..., 0] - whole[..., 2]).mean() + 10


def test_prediction_finds_the_face_and_draws_it(clips, tmp_path):
    bundle = build_untrained_bundle(
        tmp_path / "b",
        ["a", "b"],
        {"face_size": 64, "face_frames": 3},
        frame="small_cnn",
        audio=None,
        text=None,
        inputs={"frame": "faces"},
    )
    rec = Recognizer.load(bundle)
    assert rec.runners["frame"].kind.name == "faces"
    result = rec.predict_segments(clips[0], [(0.5, 2.5)])
    seg = result.segments[0]
    assert seg.modalities == ["frame"] and seg.face_box is not None
    x0, y0, x1, y1 = seg.face_box
    assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720 and 100 < x1 - x0 < 700
    written = result.save(tmp_path / "out")
    png = next(written["frames"].glob("*.png"))
    import cv2

    img = cv2.imread(str(png))
    scale = img.shape[1] / 1280
    edge = img[int(y0 * scale) + 1, int((x0 + x1) / 2 * scale)]
    assert edge[0] > 200 and edge[2] > 200 and edge[1] < 80  # the magenta face box is drawn (BGR)


def test_grey_faces_have_equal_channels_and_keep_the_face(clips):
    import av
    import numpy as np

    from emorec.inputs import input_class

    with av.open(str(clips[0])) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 45).to_ndarray(format="rgb24")
    colour, grey = (
        input_class("faces")
        .from_preprocess(PreprocessConfig(faces=True, face_size=64, face_gray=g))
        .face_crop([frame], None)
        for g in (False, True)
    )
    assert colour.found and grey.found and colour.box == grey.box
    assert np.ptp(colour.image.astype(int), axis=2).mean() > 10  # skin is not grey
    assert (grey.image[..., 0] == grey.image[..., 1]).all() and (grey.image[..., 1] == grey.image[..., 2]).all()
    luma = colour.image.astype(float) @ [0.299, 0.587, 0.114]
    assert np.abs(grey.image[..., 0] - luma).max() <= 1.0
    # a grey photograph is left as it was: training on grey images and predicting with face_gray agree
    again = np.repeat(grey.image[..., :1], 3, axis=2)
    import cv2

    assert (np.repeat(cv2.cvtColor(again, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2) == again).all()
