"""Checks only a GPU can make; skipped (marker `gpu`) on machines without CUDA, such as CI."""

import pytest
import torch
from transformers import AutoModelForMaskedLM

from kexue_models.conversion.bert4keras import convert_bert4keras
from tests.conftest import MODEL_FIXTURES, release_dir

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("model_name", MODEL_FIXTURES)
def test_bf16_sdpa_on_gpu_agrees_with_fp32_eager(tmp_path, model_name):
    import numpy as np

    release = release_dir("0.11.3", model_name)
    out = convert_bert4keras(release, tmp_path / model_name)
    references = np.load(release / "reference_outputs.npz")
    input_ids = torch.from_numpy(references["b0_input_ids"]).long().cuda()
    valid = input_ids != 0
    fp32 = AutoModelForMaskedLM.from_pretrained(out, attn_implementation="eager").cuda().eval()
    bf16 = AutoModelForMaskedLM.from_pretrained(out, attn_implementation="sdpa", dtype=torch.bfloat16).cuda().eval()
    with torch.no_grad():
        reference = fp32(input_ids).logits[valid]
        low = bf16(input_ids).logits[valid].float()
    expected = torch.from_numpy(references["b0_mlm_logits"]).cuda()[valid]
    assert (reference - expected).abs().max() <= 1e-4
    assert (low - reference).abs().max() <= 0.05 * reference.abs().max()
    assert (low.argmax(-1) == reference.argmax(-1)).float().mean() >= 0.9
