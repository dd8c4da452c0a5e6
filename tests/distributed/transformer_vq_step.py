"""One training step of a tiny Transformer-VQ under `accelerate`, on however many processes it is launched.

Each process takes its share of one fixed global batch; the main process saves the parameters and codebook
buffers after the step. Run as `python transformer_vq_step.py OUT` (one process) or under
`torchrun --nproc_per_node 2 transformer_vq_step.py OUT` (two gloo processes, which `Accelerator(cpu=True)`
picks up); tests/test_distributed.py compares.
"""

import sys

import torch
from accelerate import Accelerator

from kexue_models import TransformerVQConfig, TransformerVQForCausalLM

GLOBAL_BATCH, LENGTH = 4, 19


def main(out_path: str) -> None:
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    config = TransformerVQConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, d_k=8, d_v=12, n_code=6,
        block_len=4, mem_len=4, sinusoid_dropout=0.0, residual_dropout=0.0, layer_dropout=0.0,
        commitment_coefficient=0.1,
    )  # fmt: skip
    model = TransformerVQForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batch = torch.randint(3, config.vocab_size, (GLOBAL_BATCH, LENGTH), generator=torch.Generator().manual_seed(1))
    share = GLOBAL_BATCH // accelerator.num_processes
    rows = batch[accelerator.process_index * share : (accelerator.process_index + 1) * share]
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    loss = model(rows, labels=rows).loss
    accelerator.backward(loss)
    optimizer.step()
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        torch.save(accelerator.unwrap_model(model).state_dict(), out_path)


if __name__ == "__main__":
    main(sys.argv[1])
