"""Transformer-VQ on tiny random models: the properties the official code's own tests assert, plus what a
transformers decoder must do (cache, generate, padding, training).

A random model gets every parameter perturbed (XL biases included), so that no term of the attention is
zero by construction. Equivalence to the official code itself is tested on its checkpoints, in
tests/conversion/test_transformer_vq.py.
"""

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

from kexue_models import TransformerVQCache, TransformerVQConfig, TransformerVQForCausalLM, TransformerVQModel

TOLERANCE = 1e-4
TINY = dict(
    vocab_size=50,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    d_k=8,
    d_v=12,
    n_code=6,
    block_len=4,
    mem_len=3,
    sinusoid_dropout=0.0,
    residual_dropout=0.0,
    layer_dropout=0.0,
)


def random_model(seed: int = 0, **overrides) -> TransformerVQForCausalLM:
    torch.manual_seed(seed)
    model = TransformerVQForCausalLM(TransformerVQConfig(**{**TINY, **overrides}))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
        for layer in model.model.layers:
            layer.attention.quantizer.code_counts.uniform_(0.5, 3.0)
    return model.eval()


def token_ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, TINY["vocab_size"], (batch, length), generator=generator)
    ids[:, 0] = 1  # sequences start with EOS, as in the official pipeline
    return ids


def run_in_chunks(model, ids: torch.Tensor, sizes: list[int], **kwargs) -> tuple[torch.Tensor, TransformerVQCache]:
    cache, logits, start = None, [], 0
    for size in sizes:
        output = model(ids[:, start : start + size], past_key_values=cache, use_cache=True, **kwargs)
        cache, start = output.past_key_values, start + size
        logits.append(output.logits)
    return torch.cat(logits, dim=1), cache


# Configuration


def test_config_round_trip(tmp_path):
    config = TransformerVQConfig(**TINY, agg_cache=False, attention_algorithm="quadratic")
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is TransformerVQConfig
    assert {**loaded.to_dict(), "_name_or_path": ""} == config.to_dict()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_code", 0),
        ("mem_len", 0),
        ("block_len", -2),
        ("layer_dropout", 1.0),
        ("codebook_ema_rate", 1.0),
        ("attention_algorithm", "flash"),
        ("hidden_size", 15),
    ],
)
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TransformerVQConfig(**{**TINY, field: value})


def test_auto_classes():
    config = TransformerVQConfig(**TINY)
    assert type(AutoModel.from_config(config)) is TransformerVQModel
    assert type(AutoModelForCausalLM.from_config(config)) is TransformerVQForCausalLM


# The linear-time attention computes the quadratic form exactly


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"block_len": 1},
        {"block_len": 5, "mem_len": 2},
        {"block_len": 2, "mem_len": 7},
        {"agg_cache": False},
        {"use_absolute_position_embeddings": True, "use_final_norm": True, "tie_word_embeddings": True},
    ],
)
@torch.no_grad()
def test_blockwise_equals_quadratic(overrides):
    """The official test_attn_forward_consistency: the output does not depend on the block partition."""
    model = random_model(**overrides)
    ids = token_ids(2, 23)  # not a multiple of any block length above
    blockwise = model(ids, output_codes=True)
    model.config.attention_algorithm = "quadratic"
    quadratic = model(ids, output_codes=True)
    torch.testing.assert_close(blockwise.logits, quadratic.logits, atol=TOLERANCE, rtol=0)
    for ours, reference in zip(blockwise.codes, quadratic.codes, strict=True):
        assert torch.equal(ours, reference)


@pytest.mark.parametrize("sizes", [[23], [5, 1, 7, 3, 7], [1] * 23, [4, 4, 4, 11]])
@torch.no_grad()
def test_any_chunking_through_the_cache_equals_one_call(sizes):
    model = random_model()
    ids = token_ids(2, 23)
    whole = model(ids).logits
    chunked, cache = run_in_chunks(model, ids, sizes)
    torch.testing.assert_close(chunked, whole, atol=TOLERANCE, rtol=0)
    assert cache.get_seq_length() == 23 and len(cache) == TINY["num_hidden_layers"]


@torch.no_grad()
def test_cache_memory_is_constant_in_length():
    model = random_model()

    def cache_bytes(length: int) -> int:
        _, cache = run_in_chunks(model, token_ids(1, length), [length])
        return sum(tensor.numel() * tensor.element_size() for state in cache.states for tensor in vars(state).values())

    assert cache_bytes(5) == cache_bytes(300)


@torch.no_grad()
def test_causal():
    model = random_model()
    ids = token_ids(1, 20)
    changed = ids.clone()
    changed[0, 12] = 4 if ids[0, 12] != 4 else 5
    before, after = model(ids).logits, model(changed).logits
    torch.testing.assert_close(before[:, :12], after[:, :12], atol=0, rtol=0)
    assert not torch.allclose(before[:, 12:], after[:, 12:])


# Padding


def right_padded(lengths: tuple[int, ...], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids, mask = token_ids(len(lengths), length), torch.zeros(len(lengths), length, dtype=torch.long)
    for row, valid in enumerate(lengths):
        mask[row, :valid] = 1
        ids[row, valid:] = 0
    return ids, mask


@torch.no_grad()
def test_right_padding_changes_nothing_for_the_tokens():
    model = random_model()
    lengths = (17, 9)
    ids, mask = right_padded(lengths, 17)
    padded = model(ids, attention_mask=mask)
    for row, length in enumerate(lengths):
        alone = model(ids[row : row + 1, :length])
        torch.testing.assert_close(padded.logits[row, :length], alone.logits[0], atol=TOLERANCE, rtol=0)


def test_padding_never_enters_the_codebook_statistics():
    """Per head, the EMA adds (1-γ)·(number of real tokens) to the total count: padding adds nothing."""
    model = random_model().train()
    ids, mask = right_padded((17, 9), 17)
    before = [layer.attention.quantizer.code_counts.sum(-1) for layer in model.model.layers]
    model(ids, attention_mask=mask)
    rate = model.config.codebook_ema_rate
    for layer, total in zip(model.model.layers, before, strict=True):
        expected = rate * total + (1 - rate) * mask.sum()
        torch.testing.assert_close(layer.attention.quantizer.code_counts.sum(-1), expected)


@torch.no_grad()
def test_left_padded_batch_generates_like_each_prompt_alone():
    model = random_model()
    prompts = [token_ids(1, 9, seed=3)[0], token_ids(1, 4, seed=4)[0]]
    ids = torch.zeros(2, 9, dtype=torch.long)
    mask = torch.zeros(2, 9, dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, 9 - len(prompt) :] = prompt
        mask[row, 9 - len(prompt) :] = 1
    batched = model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=6, eos_token_id=None)
    for row, prompt in enumerate(prompts):
        alone = model.generate(prompt[None], do_sample=False, max_new_tokens=6, eos_token_id=None)
        assert torch.equal(batched[row, 9:], alone[0, len(prompt) :])


# Generation


@torch.no_grad()
def test_greedy_generate_equals_argmax_of_full_forward():
    model = random_model()
    prompt = token_ids(2, 5)
    sequences = model.generate(prompt, do_sample=False, max_new_tokens=8, eos_token_id=None)
    for step in range(8):
        logits = model(sequences[:, : 5 + step]).logits[:, -1]
        assert torch.equal(logits.argmax(-1), sequences[:, 5 + step])


@torch.no_grad()
def test_beam_search_with_cache_equals_without():
    model = random_model()
    prompt = token_ids(2, 5)
    kwargs = dict(do_sample=False, num_beams=3, max_new_tokens=6, eos_token_id=None)
    with_cache = model.generate(prompt, **kwargs)
    without = model.generate(prompt, use_cache=False, **kwargs)
    assert torch.equal(with_cache, without)


@torch.no_grad()
def test_sampling_with_several_sequences_per_prompt():
    model = random_model()
    torch.manual_seed(0)
    sequences = model.generate(
        token_ids(2, 4), do_sample=True, top_p=0.9, top_k=0, num_return_sequences=3, max_new_tokens=5
    )
    assert sequences.shape == (6, 9)


# Training


def test_loss_is_language_modelling_plus_commitment():
    model = random_model(commitment_coefficient=0.5)
    ids = token_ids(2, 11)
    labels = ids.clone()
    labels[0, :4] = -100
    output = model(ids, labels=labels)
    expected_lm = torch.nn.functional.cross_entropy(
        output.logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100
    )
    torch.testing.assert_close(output.lm_loss, expected_lm)
    torch.testing.assert_close(output.loss, expected_lm + 0.5 * output.commit_loss)


def codebooks(model) -> list[torch.Tensor]:
    return [buffer.clone() for layer in model.model.layers for buffer in layer.attention.quantizer.buffers()]


def test_eval_mode_never_moves_the_codebook():
    model = random_model()
    before = codebooks(model)
    with torch.no_grad():
        model(token_ids(2, 11))
    assert all(torch.equal(a, b) for a, b in zip(before, codebooks(model), strict=True))


def test_short_training_run_lowers_the_loss_and_moves_the_codebook():
    model = random_model(block_len=8, mem_len=8, n_code=8).train()
    before = codebooks(model)
    # A corpus with structure to learn: every sequence counts up modulo 7.
    ids = (torch.arange(32)[None] + torch.arange(8)[:, None]) % 7 + 3
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model(ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(not torch.equal(a, b) for a, b in zip(before, codebooks(model), strict=True))
    assert all(buffer.grad is None for buffer in model.buffers())


def test_gradient_checkpointing_gives_the_same_step():
    """The recompute in backward must see this step's codebook, not the EMA-updated one."""
    ids = token_ids(2, 13)
    results = []
    for checkpointing in (False, True):
        model = random_model().train()
        if checkpointing:
            model.gradient_checkpointing_enable()
        model(ids, labels=ids).loss.backward()
        gradients = [parameter.grad.clone() for parameter in model.parameters()]
        results.append((gradients, codebooks(model)))
    for plain, checkpointed in zip(*(gradients for gradients, _ in results), strict=True):
        torch.testing.assert_close(plain, checkpointed)
    for plain, checkpointed in zip(*(books for _, books in results), strict=True):
        torch.testing.assert_close(plain, checkpointed)


def test_gradients_reach_keys_through_the_straight_through_estimator():
    model = random_model().train()
    ids = token_ids(2, 9)
    model(ids, labels=ids).loss.backward()
    for layer in model.model.layers:
        assert layer.attention.kvg_proj.weight.grad.abs().sum() > 0
        assert layer.attention.xl_u.grad.abs().sum() > 0 and layer.attention.xl_v.grad.abs().sum() > 0


@torch.no_grad()
def test_save_and_reload_keeps_codebook_and_outputs(tmp_path):
    model = random_model(tie_word_embeddings=True)
    model.save_pretrained(tmp_path)
    loaded = TransformerVQForCausalLM.from_pretrained(tmp_path).eval()
    ids = token_ids(2, 9)
    torch.testing.assert_close(loaded(ids).logits, model(ids).logits, atol=0, rtol=0)
    assert loaded.lm_head.weight.data_ptr() == loaded.model.embed_tokens.weight.data_ptr()


@torch.no_grad()
def test_bfloat16_runs_close_to_float32():
    model = random_model()
    ids = token_ids(2, 15)
    reference = torch.log_softmax(model(ids).logits, -1)
    low = torch.log_softmax(model.to(torch.bfloat16)(ids).logits, -1)
    assert low.dtype == torch.float32  # full-precision logits, as the official head
    # Keys computed in bfloat16 may pick another code near a tie, so compare in aggregate.
    assert (low - reference).abs().mean() < 0.05
    assert (low.argmax(-1) == reference.argmax(-1)).float().mean() > 0.9


def test_rejects_a_foreign_cache():
    from transformers import DynamicCache

    with pytest.raises(TypeError, match="TransformerVQCache"):
        random_model()(token_ids(1, 3), past_key_values=DynamicCache())


@torch.no_grad()
def test_torch_compile_without_graph_breaks():
    """No Python loop over tokens or blocks, no host syncs: the whole forward is one graph."""
    model = random_model()
    ids = token_ids(2, 23)
    compiled = torch.compile(model.model, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(ids).last_hidden_state, model.model(ids).last_hidden_state)


def test_codebook_statistics_stay_float32(tmp_path):
    """EMA counts outgrow bfloat16's integers: the quantizer's buffers stay float32 under any cast."""
    random_model().save_pretrained(tmp_path)
    for model in (
        random_model().to(torch.bfloat16),
        TransformerVQForCausalLM.from_pretrained(tmp_path, dtype=torch.bfloat16),
    ):
        assert model.model.embed_tokens.weight.dtype == torch.bfloat16
        for buffer in model.model.layers[0].attention.quantizer.buffers():
            assert buffer.dtype == torch.float32
