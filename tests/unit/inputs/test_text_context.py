"""Dialogue context for the text model: previous turns of the same dialogue, oldest tokens dropped first."""

from emorec.corpora.records import Utterance
from emorec.inputs.tokens import load_tokenizer, tokenize, tokenize_with_context
from emorec.preprocess.context import dialogue_context


def _u(i, dialog, start, text, speaker="A"):
    return Utterance(
        utt_id=f"{dialog}_{i}",
        corpus="x",
        label="neu",
        start=start,
        end=start + 1,
        text=text,
        speaker=speaker,
        dialog=dialog,
        order=i,
    )


def test_context_takes_previous_turns_of_the_same_dialogue_in_time_order():
    utts = [
        _u(0, "d1", 0.0, "hello", "Ann"),
        _u(1, "d2", 0.0, "other dialogue"),
        _u(2, "d1", 5.0, "how are you", "Bob"),
        _u(3, "d1", 2.0, "nice day", "Bob"),
        _u(4, "d1", 9.0, "fine", "Ann"),
    ]
    ctx = dialogue_context(utts, 2)
    assert ctx["d1_0"] == ""
    assert ctx["d1_3"] == "Ann: hello"
    assert ctx["d1_2"] == "Ann: hello Bob: nice day"
    assert ctx["d1_4"] == "Bob: nice day Bob: how are you"
    assert ctx["d2_1"] == ""
    assert dialogue_context(utts, 1, speaker_tags=False)["d1_4"] == "how are you"
    assert all(v == "" for v in dialogue_context(utts, 0).values())


def test_pair_tokenisation_keeps_the_target_and_drops_oldest_context():
    tok = load_tokenizer("minilm")
    long_ctx = " ".join(f"word{i}" for i in range(200)) + " latest"
    ids, mask = tokenize_with_context([long_ctx, ""], ["i am so happy", "i am so happy"], "minilm", 24)
    assert ids.shape == (2, 24) and mask[0].sum() == 24
    decoded = tok.decode(ids[0][mask[0].astype(bool)])
    assert decoded.endswith("[SEP] i am so happy [SEP]") and "latest" in decoded and "word0 " not in decoded
    plain, plain_mask = tokenize(["i am so happy"], "minilm", 24)
    assert (ids[1] == plain[0]).all() and (mask[1] == plain_mask[0]).all()
