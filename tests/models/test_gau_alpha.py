import math

import pytest
import torch

from kexue_models import GAUAlphaConfig, GAUAlphaModel
from kexue_models.modeling.modeling_gau_alpha import softmax_plus_scale
from tests.modeling_common import EncoderModelTest


class TestGAUAlpha(EncoderModelTest):
    config_class = GAUAlphaConfig
    config_kwargs = dict(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, intermediate_size=48, attention_key_size=16
    )

    def test_odd_key_size_is_rejected(self):
        with pytest.raises(ValueError, match="attention_key_size"):
            self.config(attention_key_size=15)

    def test_min_length_changes_short_sequences_only(self):
        """softmax_plus floors n at `softmax_plus_min_length` (16 in bert4keras 0.11.5, 1 before)."""
        floor_1 = GAUAlphaModel(self.config(softmax_plus_min_length=1)).eval()
        floor_16 = GAUAlphaModel(self.config(softmax_plus_min_length=16)).eval()
        floor_16.load_state_dict(floor_1.state_dict())
        short, long = torch.randint(5, 99, (1, 8)), torch.randint(5, 99, (1, 24))
        with torch.no_grad():
            assert not torch.allclose(floor_1(short).last_hidden_state, floor_16(short).last_hidden_state)
            assert torch.equal(floor_1(long).last_hidden_state, floor_16(long).last_hidden_state)


def test_softmax_plus_scale_counts_valid_tokens():
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    scale = softmax_plus_scale(mask, key_size=16, min_length=1).flatten()
    expected = [math.log(n) / math.log(512) / 4 for n in (3, 4)]
    assert torch.allclose(scale, torch.tensor(expected))
    assert torch.allclose(
        softmax_plus_scale(mask, 16, 16).flatten(), torch.full((2,), math.log(16) / math.log(512) / 4)
    )
