"""Su's options for a language model whose output matrix is its input embedding (kexue.fm/archives/9698).

With residual branches starting near zero the model starts as the identity, so the final normalised state
for input token i is w_i/σ, and its logit for token i itself is |w_i|²/σ ≈ dσ: the initial loss is about
log(e^{dσ} + n - 1), far above the log n of a uniform guess. `tied_embedding_mode` picks a remedy:

- `direct`: logits = h·Eᵀ, as RoFormerV2 and GAU-α were released (the problem itself);
- `untied`: a separate output matrix;
- `small_std`: tied, embedding initialised at σ = log(n)/d, so e^{dσ} = n;
- `projection`: tied, with an orthogonally initialised d×d projection (+ bias, optional activation: BERT's
  head) before the output matrix;
- `half_swap`: tied, with the two halves of the state swapped first (parameter free; Su found it best under
  Lion/Tiger, kexue.fm/archives/9736).

`zero_init_residual` starts every residual branch's output projection at zero, the setting of the analysis.
Shared by the three models; the configurations carry the fields (configuration_common.py).
"""

import math

import torch
from torch import nn
from transformers import initialization as init
from transformers.activations import ACT2FN


class ResidualProjection(nn.Linear):
    """The last projection of a residual branch: what `zero_init_residual` starts at zero."""


class OutputProjection(nn.Linear):
    """The d×d projection of `tied_embedding_mode="projection"`, orthogonally initialised."""


class OutputTransform(nn.Module):
    """What the final hidden state goes through before the output matrix, per `tied_embedding_mode`."""

    def __init__(self, config):
        super().__init__()
        self.half_swap = config.tied_embedding_mode == "half_swap"
        self.projection = None
        self.activation = None
        if config.tied_embedding_mode == "projection":
            self.projection = OutputProjection(config.hidden_size, config.hidden_size, bias=True)
            if config.output_projection_activation is not None:
                self.activation = ACT2FN[config.output_projection_activation]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.half_swap:  # with an even width, rolling by half swaps the halves
            hidden_states = hidden_states.roll(hidden_states.shape[-1] // 2, dims=-1)
        if self.projection is not None:
            hidden_states = self.projection(hidden_states)
            if self.activation is not None:
                hidden_states = self.activation(hidden_states)
        return hidden_states


def init_output_options(module: nn.Module, config) -> bool:
    """Initialise `module` as the options ask; False when they leave it to the model's own initialiser."""
    if isinstance(module, ResidualProjection) and config.zero_init_residual:
        init.zeros_(module.weight)
    elif isinstance(module, OutputProjection):
        init.orthogonal_(module.weight)
        init.zeros_(module.bias)
    elif (
        isinstance(module, nn.Embedding)
        and config.tied_embedding_mode == "small_std"
        and module.num_embeddings == config.vocab_size
    ):
        init.normal_(module.weight, mean=0.0, std=math.log(config.vocab_size) / config.hidden_size)
    else:
        return False
    return True
