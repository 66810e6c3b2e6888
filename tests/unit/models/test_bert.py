"""emorec's BERT encoder is transformers' BertModel: same parameters, same outputs on MiniLM's weights, in
evaluation and (dropout off) training mode, with padding."""

from pathlib import Path

import pytest
import torch

from emorec.inputs.tokens import tokenize
from emorec.models.bert import BertEncoder, is_plain_bert, read_config
from emorec.models.encoders import resolve_encoder
from emorec.models.text import load_encoder

TEXTS = ["Dogs are sitting by the door.", "Oh my god, I can't believe it!", "ok", "[LAUGHTER] what? no way"]


@pytest.fixture(scope="module")
def minilm():
    return resolve_encoder("minilm")


def test_minilm_runs_without_transformers_model_code(minilm):
    assert is_plain_bert(read_config(minilm))
    assert isinstance(load_encoder(minilm, pretrained=True), BertEncoder)


def test_outputs_equal_transformers_bert(minilm):
    from transformers import AutoModel

    theirs = AutoModel.from_pretrained(minilm, local_files_only=True).eval()
    ours = load_encoder(minilm, pretrained=True).eval()
    assert sorted(ours.state_dict()) == sorted(k for k in theirs.state_dict() if k != "embeddings.position_ids")
    ids, mask = (torch.from_numpy(a).long() for a in tokenize(TEXTS, "minilm", max_length=16))
    with torch.no_grad():
        a = ours(input_ids=ids, attention_mask=mask).last_hidden_state
        b = theirs(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()
    assert torch.allclose(a[keep], b[keep], atol=1e-4)
    pooled_a = (a * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    pooled_b = (b * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    assert torch.nn.functional.cosine_similarity(pooled_a, pooled_b).min() > 0.99999


def test_a_state_saved_from_transformers_bert_loads_strictly(minilm):
    from transformers import AutoConfig, AutoModel

    theirs = AutoModel.from_config(AutoConfig.from_pretrained(minilm, local_files_only=True))
    ours = BertEncoder(read_config(minilm))
    ours.load_state_dict({k: v for k, v in theirs.state_dict().items() if k != "embeddings.position_ids"}, strict=True)


def test_a_folder_without_safetensors_is_named(tmp_path, minilm):
    (tmp_path / "config.json").write_text((Path(minilm) / "config.json").read_text())
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_encoder(str(tmp_path), pretrained=True)
