"""Su's tied-output analysis (kexue.fm/archives/9698) measured on the real models.

With `zero_init_residual` every model starts as the identity, so its initial LM loss on a next token j ≠ i is
the post's 2-gram loss: log(e^{dσ} + n - 1) for `direct`, ≈ log(2n - 1) for `small_std`, ≈ log n otherwise.
The post counts each of the n - 1 other logits as e^0 = 1; they are Gaussian with variance s = d·σ_out²
(σ_out: the output matrix's std), so their sum is about (n - 1)·e^{s/2}. The tests compare with the post's
formulas within s/2 + 0.1, and with the formulas that keep e^{s/2} within 0.15 (+0.5% of the value). Where s
is large (Transformer-VQ's official N(0, 1) embeddings: s = d), the sum is ruled by its largest terms and only
the self logit's effect is checked: `direct` echoes its input, the other modes do not. Token-type
embeddings are zeroed: the post's 2-gram has none.
"""

import math

import pytest
import torch

from kexue_models import (
    GAUAlphaConfig,
    GAUAlphaForMaskedLM,
    RoFormerV2Config,
    RoFormerV2ForMaskedLM,
    RoFormerV2Model,
    TransformerVQConfig,
    TransformerVQForCausalLM,
)

SIZES = [(64, 500), (128, 2000)]  # (d, n)
MODES = ["direct", "small_std", "untied", "projection", "half_swap"]


def build(family: str, d: int, n: int, **options):
    common = dict(vocab_size=n, hidden_size=d, num_hidden_layers=2, zero_init_residual=True, **options)
    if family == "roformer_v2":
        return RoFormerV2ForMaskedLM(RoFormerV2Config(num_attention_heads=4, intermediate_size=2 * d, **common))
    if family == "gau_alpha":
        return GAUAlphaForMaskedLM(GAUAlphaConfig(intermediate_size=2 * d, attention_key_size=16, **common))
    return TransformerVQForCausalLM(
        TransformerVQConfig(d_k=16, d_v=2 * d, n_code=8, block_len=16, mem_len=16, use_final_norm=True, **common)
    )


def initial_loss(model, n: int) -> tuple[float, float]:
    """Mean cross-entropy on next tokens j ≠ i, and the fraction of positions predicting the input itself."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randint(5, n, (8, 64), generator=generator)
    targets = (inputs + torch.randint(1, n - 5, inputs.shape, generator=generator) - 5) % (n - 5) + 5
    with torch.no_grad():
        logits = model.eval()(inputs).logits
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten()).item()
    return loss, (logits.argmax(-1) == inputs).float().mean().item()


def expected_loss(mode: str, d: int, n: int, sigma: float, spread: float = 0.0) -> float:
    """The post's estimate (spread 0), or with the other logits' spread kept (see the module docstring)."""
    others = (n - 1) * math.exp(spread / 2)
    if mode in ("direct", "small_std"):  # the self logit |w_i|²/σ ≈ dσ (= log n for small_std)
        return math.log(math.exp(d * sigma) + others)
    return math.log(others + math.exp(spread / 2))


@pytest.mark.parametrize(("d", "n"), SIZES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", ["roformer_v2", "gau_alpha", "transformer_vq"])
def test_initial_loss_follows_the_post(family, mode, d, n):
    torch.manual_seed(0)
    model = build(family, d, n, tied_embedding_mode=mode)
    embeddings = model.get_input_embeddings().weight
    if family != "transformer_vq":
        with torch.no_grad():
            model.model.embeddings.token_type_embeddings.weight.zero_()
    sigma, sigma_out = embeddings.std().item(), model.get_output_embeddings().weight.std().item()
    spread = d * sigma_out**2
    if mode == "small_std":
        assert sigma == pytest.approx(math.log(n) / d, rel=0.05)
    loss, predicts_itself = initial_loss(model, n)
    self_dominates = mode == "direct" and d * sigma > math.log(n) + spread / 2 + 3
    if spread <= 2 or self_dominates:
        assert abs(loss - expected_loss(mode, d, n, sigma)) <= spread / 2 + 0.1, (loss, sigma, spread)
        refined = expected_loss(mode, d, n, sigma, spread)
        assert abs(loss - refined) <= 0.15 + 0.005 * refined, (loss, refined, sigma, spread)
    if self_dominates:  # the model echoes its input
        assert predicts_itself > 0.95
    if mode in ("untied", "projection", "half_swap"):
        assert predicts_itself < 0.05


@pytest.mark.parametrize("family", ["roformer_v2", "gau_alpha", "transformer_vq"])
@pytest.mark.parametrize("mode", MODES)
def test_options_round_trip_and_tie_as_declared(tmp_path, family, mode):
    torch.manual_seed(0)
    model = build(family, 32, 60, tied_embedding_mode=mode, output_projection_activation="gelu").eval()
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path).eval()
    assert loaded.config.tied_embedding_mode == mode and loaded.config.zero_init_residual
    tied = loaded.get_output_embeddings().weight.data_ptr() == loaded.get_input_embeddings().weight.data_ptr()
    assert tied == (mode != "untied") == loaded.config.tie_word_embeddings
    inputs = torch.randint(5, 60, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(loaded(inputs).logits, model(inputs).logits, atol=0, rtol=0)


def test_projection_is_orthogonal_and_half_swap_has_no_parameters():
    projected = build("roformer_v2", 32, 60, tied_embedding_mode="projection")
    weight = projected.output_transform.projection.weight
    torch.testing.assert_close(weight @ weight.T, torch.eye(32), atol=1e-5, rtol=0)
    direct, swapped = (build("gau_alpha", 32, 60, tied_embedding_mode=mode) for mode in ("direct", "half_swap"))
    assert sum(p.numel() for p in swapped.parameters()) == sum(p.numel() for p in direct.parameters())


def test_zero_init_residual_zeroes_every_branch_output():
    for family in ("roformer_v2", "gau_alpha", "transformer_vq"):
        model = build(family, 32, 60)
        zeroed = [name for name, p in model.named_parameters() if name.endswith(("o_proj.weight", "down_proj.weight"))]
        assert zeroed and all(model.get_parameter(name).abs().sum() == 0 for name in zeroed)


def test_invalid_mode_names_the_field():
    with pytest.raises(ValueError, match="tied_embedding_mode"):
        RoFormerV2Config(tied_embedding_mode="shuffle")


# RoFormerV2's length-extrapolation switches


def roformer(**options) -> RoFormerV2Model:
    torch.manual_seed(0)
    config = RoFormerV2Config(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, **options
    )
    return RoFormerV2Model(config).eval()


@torch.no_grad()
def test_entropy_invariant_scale_is_log512_of_the_valid_keys():
    """At n = 512 valid keys the factor log₅₁₂ n is 1: the same as standard attention; at 64 it is not."""
    standard, invariant = roformer(), roformer(attention_scale="entropy_invariant")
    long_ids, short_ids = torch.randint(5, 99, (1, 512)), torch.randint(5, 99, (1, 64))
    torch.testing.assert_close(invariant(long_ids).last_hidden_state, standard(long_ids).last_hidden_state)
    assert not torch.allclose(invariant(short_ids).last_hidden_state, standard(short_ids).last_hidden_state)
    # Padding does not count: 64 tokens + 448 pads behave like 64 tokens.
    padded = torch.cat((short_ids, torch.zeros(1, 448, dtype=torch.long)), dim=1)
    torch.testing.assert_close(
        invariant(padded).last_hidden_state[:, :64], invariant(short_ids).last_hidden_state, atol=1e-5, rtol=0
    )


@torch.no_grad()
def test_entropy_invariant_eager_and_sdpa_agree():
    ids = torch.randint(5, 99, (2, 20))
    eager = roformer(attention_scale="entropy_invariant")
    eager.set_attn_implementation("eager")
    sdpa = roformer(attention_scale="entropy_invariant")
    sdpa.set_attn_implementation("sdpa")
    torch.testing.assert_close(eager(ids).last_hidden_state, sdpa(ids).last_hidden_state, atol=1e-5, rtol=0)


@torch.no_grad()
def test_qk_bias_starts_at_zero_and_a_key_bias_matters_with_rope():
    """Without RoPE a key bias would cancel in the softmax; before RoPE it does not (kexue.fm/archives/9577)."""
    plain, biased = roformer(), roformer(qk_bias=True)
    biased.load_state_dict(plain.state_dict(), strict=False)  # same weights; the biases stay at their zero init
    assert all(biased.get_parameter(name).abs().sum() == 0 for name, _ in biased.named_parameters() if "bias" in name)
    ids = torch.randint(5, 99, (1, 16))
    torch.testing.assert_close(biased(ids).last_hidden_state, plain(ids).last_hidden_state)
    biased.layers[0].self_attn.k_proj.bias.normal_()
    assert not torch.allclose(biased(ids).last_hidden_state, plain(ids).last_hidden_state, atol=1e-4)
