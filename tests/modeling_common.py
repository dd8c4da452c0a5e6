"""`EncoderModelTest`: the checks every kexue encoder must pass, in the spirit of transformers' tester mixins.

A model's test file subclasses it and sets `config_class` and `config_kwargs` (a tiny config); the heads
and Auto classes come from `kexue_models.AUTO_CLASSES`, the same table the package registers.
"""

import math

import pytest
import torch
from safetensors import safe_open
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM

from kexue_models import AUTO_CLASSES

BATCH, SEQ = 3, 9


class EncoderModelTest:
    config_class: type
    config_kwargs: dict

    def config(self, **overrides):
        return self.config_class(**{**self.config_kwargs, **overrides})

    def inputs(self, config, padded: bool = True) -> dict[str, torch.Tensor]:
        input_ids = torch.randint(5, config.vocab_size, (BATCH, SEQ))
        input_ids[:, 0] = 2  # [CLS]
        attention_mask = torch.ones_like(input_ids)
        if padded:
            for row, length in enumerate((SEQ, 6, 3)):
                input_ids[row, length:] = 0
                attention_mask[row, length:] = 0
        token_type_ids = torch.zeros_like(input_ids)
        token_type_ids[:, SEQ // 2 :] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}

    def heads(self) -> dict:
        return AUTO_CLASSES[self.config_class]

    # Configuration

    def test_config_round_trip(self, tmp_path):
        config = self.config(hidden_dropout_prob=0.05, num_labels=3)
        config.save_pretrained(tmp_path)
        loaded = AutoConfig.from_pretrained(tmp_path)
        assert type(loaded) is self.config_class
        assert {**loaded.to_dict(), "_name_or_path": ""} == config.to_dict()

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("hidden_size", 0),
            ("num_hidden_layers", -1),
            ("hidden_dropout_prob", 1.5),
            ("hidden_act", "nope"),
            ("rms_norm_eps", 0.0),
        ],
    )
    def test_config_validation_names_the_field(self, field, value):
        with pytest.raises(ValueError, match=field):
            self.config(**{field: value})

    # Outputs

    def test_hidden_states_and_attentions(self):
        config = self.config()
        model = AutoModel.from_config(config, attn_implementation="eager").eval()
        outputs = model(**self.inputs(config), output_hidden_states=True, output_attentions=True)
        assert len(outputs.hidden_states) == config.num_hidden_layers + 1
        assert len(outputs.attentions) == config.num_hidden_layers
        assert outputs.last_hidden_state.shape == (BATCH, SEQ, config.hidden_size)
        assert torch.equal(outputs.hidden_states[-1], outputs.last_hidden_state)
        probs = outputs.attentions[0]
        assert torch.allclose(probs.sum(-1), torch.ones(()), atol=1e-5)
        assert (probs[2, :, :, 3:] == 0).all(), "padded keys must get probability exactly 0"

    def test_output_attentions_needs_eager(self):
        config = self.config()
        model = AutoModel.from_config(config, attn_implementation="sdpa").eval()
        with pytest.raises(ValueError, match="eager"):
            model(**self.inputs(config), output_attentions=True)

    def test_return_dict_false_gives_tuple(self):
        config = self.config()
        model = AutoModel.from_config(config).eval()
        outputs = model(**self.inputs(config), output_hidden_states=True, return_dict=False)
        assert isinstance(outputs, tuple) and outputs[0].shape == (BATCH, SEQ, config.hidden_size)

    def test_eager_and_sdpa_agree(self):
        config = self.config()
        eager = AutoModelForMaskedLM.from_config(config, attn_implementation="eager").eval()
        sdpa = AutoModelForMaskedLM.from_config(config, attn_implementation="sdpa").eval()
        sdpa.load_state_dict(eager.state_dict())
        inputs = self.inputs(config)
        with torch.no_grad():
            difference = (eager(**inputs).logits - sdpa(**inputs).logits).abs().max().item()
        assert difference <= 1e-5

    def test_padding_does_not_change_valid_tokens(self):
        config = self.config()
        model = AutoModel.from_config(config).eval()
        inputs = self.inputs(config)
        with torch.no_grad():
            batched = model(**inputs).last_hidden_state
            for row, length in enumerate((SEQ, 6, 3)):
                alone = model(**{name: tensor[row : row + 1, :length] for name, tensor in inputs.items()})
                assert torch.allclose(batched[row, :length], alone.last_hidden_state[0], atol=1e-5)

    def test_attention_mask_defaults_to_non_pad_tokens(self):
        config = self.config()
        model = AutoModel.from_config(config).eval()
        inputs = self.inputs(config)
        with torch.no_grad():
            explicit = model(**inputs).last_hidden_state
            derived = model(input_ids=inputs["input_ids"], token_type_ids=inputs["token_type_ids"]).last_hidden_state
        assert torch.equal(explicit, derived)

    def test_inputs_embeds_matches_input_ids(self):
        config = self.config()
        model = AutoModel.from_config(config).eval()
        inputs = self.inputs(config)
        embeds = model.get_input_embeddings()(inputs["input_ids"])
        with torch.no_grad():
            from_ids = model(**inputs).last_hidden_state
            from_embeds = model(
                inputs_embeds=embeds, attention_mask=inputs["attention_mask"], token_type_ids=inputs["token_type_ids"]
            ).last_hidden_state
        assert torch.allclose(from_ids, from_embeds, atol=1e-6)

    # Heads

    def head_labels(self, auto_class, config, inputs) -> dict[str, torch.Tensor]:
        name = auto_class.__name__
        if name.endswith("ForMaskedLM"):
            labels = torch.full_like(inputs["input_ids"], -100)
            labels[:, 1:3] = inputs["input_ids"][:, 1:3]
            return {"labels": labels}
        if name.endswith("ForSequenceClassification"):
            return {"labels": torch.tensor([0, 1, 2])}
        if name.endswith("ForMultipleChoice"):
            return {"labels": torch.tensor([1, 0, 1])}
        if name.endswith("ForTokenClassification"):
            return {"labels": torch.randint(0, 3, inputs["input_ids"].shape)}
        if name.endswith("ForQuestionAnswering"):
            return {"start_positions": torch.tensor([1, 2, 0]), "end_positions": torch.tensor([3, 4, 1])}
        return {}

    def head_inputs(self, auto_class, config) -> dict[str, torch.Tensor]:
        inputs = self.inputs(config)
        if auto_class.__name__.endswith("ForMultipleChoice"):  # (batch, choices=2, seq)
            inputs = {name: torch.stack([tensor, tensor.flip(0)], dim=1) for name, tensor in inputs.items()}
        return inputs

    def test_every_head_forward_and_backward(self):
        config = self.config(num_labels=3)
        for auto_class, model_class in self.heads().items():
            model = auto_class.from_config(config)
            assert type(model) is model_class
            inputs = self.head_inputs(auto_class, config)
            outputs = model(**inputs, **self.head_labels(auto_class, config, inputs))
            if auto_class is AutoModel:
                outputs.last_hidden_state.sum().backward()
            else:
                assert outputs.loss is not None and torch.isfinite(outputs.loss), model_class.__name__
                outputs.loss.backward()
            missing = [name for name, parameter in model.named_parameters() if parameter.grad is None]
            assert not missing, f"{model_class.__name__}: no gradient for {missing}"

    def test_every_head_saves_and_loads(self, tmp_path):
        config = self.config(num_labels=3)
        for auto_class, model_class in self.heads().items():
            model = model_class(config).eval()
            model.save_pretrained(tmp_path / model_class.__name__)
            loaded = auto_class.from_pretrained(tmp_path / model_class.__name__).eval()
            assert type(loaded) is model_class
            inputs = self.head_inputs(auto_class, config)
            with torch.no_grad():
                for expected, actual in zip(model(**inputs).to_tuple(), loaded(**inputs).to_tuple(), strict=True):
                    assert torch.allclose(expected, actual, atol=1e-6), model_class.__name__

    def test_mlm_head_is_tied_and_saved_once(self, tmp_path):
        config = self.config()
        model = AutoModelForMaskedLM.from_config(config)
        embeddings = model.get_input_embeddings().weight
        assert model.get_output_embeddings().weight is embeddings
        model.save_pretrained(tmp_path)
        with safe_open(tmp_path / "model.safetensors", "pt") as weights:
            assert not any(key.startswith("lm_head") for key in weights.keys())
        loaded = AutoModelForMaskedLM.from_pretrained(tmp_path)
        assert loaded.get_output_embeddings().weight is loaded.get_input_embeddings().weight
        assert torch.equal(loaded.get_input_embeddings().weight, embeddings)

    # Training

    def test_gradient_checkpointing_gives_the_same_gradients(self):
        config = self.config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        inputs = self.inputs(config)
        labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
        gradients = []
        for checkpointing in (False, True):
            torch.manual_seed(0)
            model = AutoModelForMaskedLM.from_config(config).train()
            if checkpointing:
                model.gradient_checkpointing_enable()
            model(**inputs, labels=labels).loss.backward()
            gradients.append({name: p.grad.clone() for name, p in model.named_parameters()})
        for name, gradient in gradients[0].items():
            assert torch.allclose(gradient, gradients[1][name], atol=1e-6), name

    def test_init_follows_bert4keras(self):
        config = self.config(hidden_size=256, intermediate_size=512, vocab_size=12000)
        model = AutoModelForMaskedLM.from_config(config)
        layers, order = config.num_hidden_layers, model.init_order
        for name, parameter in model.named_parameters():
            if parameter.ndim != 2:
                assert torch.equal(parameter, torch.ones_like(parameter)), f"{name}: scales start at one"
                continue
            module_is_linear = not name.startswith("model.embeddings")
            rows = parameter.shape[1] if module_is_linear else parameter.shape[0]  # TF layout [in, out]
            cols = parameter.shape[0] if module_is_linear else parameter.shape[1]
            fan = cols if (rows > 10000 or rows < 10) else rows
            std = 1.13684723 / math.sqrt(fan) * layers ** (-1 / order)
            assert parameter.abs().max() <= 2 * std + 1e-6, f"{name}: truncation at two standard deviations"
            if parameter.numel() > 10000:
                measured = parameter.std().item()
                assert abs(measured - std * 0.8796) / (std * 0.8796) < 0.05, f"{name}: std {measured} vs {std}"

    def test_torch_compile_without_graph_breaks(self):
        config = self.config()
        model = AutoModel.from_config(config).eval()
        inputs = self.inputs(config)
        compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
        with torch.no_grad():
            expected = model(**inputs).last_hidden_state
            actual = compiled(**inputs).last_hidden_state
        assert torch.allclose(expected, actual, atol=1e-5)

    def test_bfloat16_runs_close_to_float32(self):
        """Every dtype-sensitive piece (RoPE tables, the softmax_plus scale, masks) follows the activations."""
        config = self.config()
        model = AutoModelForMaskedLM.from_config(config).eval()
        inputs = self.inputs(config)
        valid = inputs["attention_mask"].bool()
        with torch.no_grad():
            reference = model(**inputs).logits[valid]
            for attn_implementation in ("eager", "sdpa"):
                model.set_attn_implementation(attn_implementation)
                low = model.to(torch.bfloat16)(**inputs).logits[valid].float()
                model.float()
                assert low.dtype == torch.float32 and torch.isfinite(low).all()
                assert (low - reference).abs().max() <= 0.05 * reference.abs().max()
