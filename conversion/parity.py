"""Compare a converted model with the outputs the original code computed (bert4keras, official Transformer-VQ)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# What a conversion must reproduce: the original code's outputs to this max-abs-diff (fp32).
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Parity:
    """Worst max-abs-diff over the valid (non-pad) tokens of every reference batch."""

    hidden_states: float
    mlm_logits: float
    same_argmax: bool

    def within(self, tolerance: float) -> bool:
        return self.hidden_states <= tolerance and self.mlm_logits <= tolerance and self.same_argmax

    def figures(self) -> dict[str, str]:
        return {
            "hidden states": f"{self.hidden_states:.2e}",
            "MLM logits": f"{self.mlm_logits:.2e}",
            "same MLM argmax": str(self.same_argmax),
        }


def bert4keras_parity(model: torch.nn.Module, references: str | Path | np.lib.npyio.NpzFile) -> Parity:
    """`references` is a `reference_outputs.npz`: per batch `b{i}_input_ids`, `_token_type_ids`,
    `_hidden_states` [L+1, B, T, H] (embedding norm, then every layer) and `_mlm_logits` [B, T, V];
    token id 0 marks padding. `model` is a `...ForMaskedLM`."""
    if not isinstance(references, np.lib.npyio.NpzFile):
        references = np.load(references)
    batches = sorted({key.split("_", 1)[0] for key in references.files})
    worst_hidden = worst_logits = 0.0
    same_argmax = True
    for batch in batches:
        input_ids = torch.from_numpy(references[f"{batch}_input_ids"]).long()
        token_type_ids = torch.from_numpy(references[f"{batch}_token_type_ids"]).long()
        with torch.no_grad():
            outputs = model(input_ids, token_type_ids=token_type_ids, output_hidden_states=True)
        valid = (input_ids != 0).numpy()
        hidden = torch.stack(outputs.hidden_states).float().numpy()
        expected_hidden = references[f"{batch}_hidden_states"]
        if hidden.shape != expected_hidden.shape:
            raise ValueError(f"hidden states have shape {hidden.shape}, the references {expected_hidden.shape}")
        logits = outputs.logits.float().numpy()
        expected_logits = references[f"{batch}_mlm_logits"]
        worst_hidden = max(worst_hidden, float(np.abs(hidden - expected_hidden)[:, valid].max()))
        worst_logits = max(worst_logits, float(np.abs(logits - expected_logits)[valid].max()))
        same_argmax &= bool((logits.argmax(-1) == expected_logits.argmax(-1))[valid].all())
    return Parity(hidden_states=worst_hidden, mlm_logits=worst_logits, same_argmax=same_argmax)


def transformer_vq_parity(model: torch.nn.Module, references: str | Path) -> float:
    """Max-abs-diff of log_softmax(logits) against the official log-probs; `references` is an npz with
    `input_ids` [B, T] and `logprobs` [B, T, V] (the fixtures' reference_outputs.npz has both)."""
    references = np.load(references)
    with torch.no_grad():
        logits = model(torch.from_numpy(references["input_ids"]).long()).logits
    log_probs = torch.log_softmax(logits.float(), dim=-1).numpy()
    if log_probs.shape != references["logprobs"].shape:
        raise ValueError(f"log-probs have shape {log_probs.shape}, the references {references['logprobs'].shape}")
    return float(np.abs(log_probs - references["logprobs"]).max())
