import torch

from kexue_models import RoFormerV2Config, RoFormerV2Model
from kexue_models.modeling.modeling_common import apply_rotary, rotary_tables
from tests.modeling_common import EncoderModelTest


class TestRoFormerV2(EncoderModelTest):
    config_class = RoFormerV2Config
    config_kwargs = dict(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )

    def test_head_size_must_divide_hidden_size(self):
        import pytest

        with pytest.raises(ValueError, match="num_attention_heads"):
            self.config(num_attention_heads=5)

    def test_longer_than_max_position_embeddings(self):
        """bert4keras has no length cap: rotary positions extend to any length."""
        config = self.config(max_position_embeddings=8)
        model = RoFormerV2Model(config).eval()
        with torch.no_grad():
            outputs = model(torch.randint(5, 99, (1, 20)))
        assert torch.isfinite(outputs.last_hidden_state).all()


def test_rotary_rotates_adjacent_pairs():
    """Interleaved RoPE: dims (2i, 2i+1) rotate together by position·10000^(-2i/d) (bert4keras backend.py)."""
    dim, position = 8, 3
    cos, sin = rotary_tables(torch.tensor([[position]]), dim, 10000.0, torch.float32)
    states = torch.arange(1.0, dim + 1).view(1, 1, dim)
    rotated = apply_rotary(states, cos, sin)[0, 0]
    for i in range(dim // 2):
        angle = position * 10000.0 ** (-2 * i / dim)
        x, y = states[0, 0, 2 * i].item(), states[0, 0, 2 * i + 1].item()
        expected = (
            x * torch.cos(torch.tensor(angle)) - y * torch.sin(torch.tensor(angle)),
            y * torch.cos(torch.tensor(angle)) + x * torch.sin(torch.tensor(angle)),
        )
        assert torch.allclose(rotated[2 * i : 2 * i + 2], torch.stack(expected), atol=1e-6)
