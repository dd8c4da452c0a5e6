"""bert4keras' AdaFactor as Su's CLUE scripts configure it (docs: clue_spec.md §1): `AdaFactor(learning_rate=5e-4,
beta1=0.9, min_dim_size_to_factor=10**6)`. With that threshold no published parameter has its second moment
factored, so this port keeps the full per-element estimate. transformers' `Adafactor` differs in two ways that
change the trajectory: it always factors matrices, and it scales the update by the parameter's RMS before the
first-moment average (bert4keras after)."""

import torch


def rms(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.pow(2).mean().sqrt()


class AdaFactor(torch.optim.Optimizer):
    """Per parameter p with gradient g at step t (bert4keras optimizers.py `AdaFactorV1`, unfactored):
    v = β2ₜ·v + (1-β2ₜ)·(g² + ε1) with β2ₜ = 1 - t^-0.8;  u = g / √(v + ε1), clipped to RMS ≤ `clipping_threshold`;
    m = β1·m + (1-β1)·u;  p -= lr · m · max(RMS(p), ε2). The learning rate is constant (no warm-up, no decay)."""

    def __init__(
        self,
        params,
        lr: float = 5e-4,
        beta1: float = 0.9,
        epsilon1: float = 1e-30,
        epsilon2: float = 1e-3,
        clipping_threshold: float = 1.0,
        multiply_by_parameter_scale: bool = True,
    ):
        if lr <= 0:
            raise ValueError(f"AdaFactor: lr must be positive, found {lr}")
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"AdaFactor: beta1 must be in [0, 1), found {beta1}")
        defaults = {
            "lr": lr,
            "beta1": beta1,
            "epsilon1": epsilon1,
            "epsilon2": epsilon2,
            "clipping_threshold": clipping_threshold,
            "multiply_by_parameter_scale": multiply_by_parameter_scale,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.float()
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["second_moment"] = torch.zeros_like(grad)
                    if group["beta1"] > 0:
                        state["first_moment"] = torch.zeros_like(grad)
                state["step"] += 1
                beta2 = 1.0 - state["step"] ** -0.8
                second_moment = state["second_moment"]
                second_moment.mul_(beta2).add_(grad.square() + group["epsilon1"], alpha=1.0 - beta2)
                update = grad / (second_moment + group["epsilon1"]).sqrt()
                update /= (rms(update) / group["clipping_threshold"]).clamp(min=1.0)
                if group["beta1"] > 0:
                    update = state["first_moment"].mul_(group["beta1"]).add_(update, alpha=1.0 - group["beta1"])
                if group["multiply_by_parameter_scale"]:
                    update = update * rms(param.float()).clamp(min=group["epsilon2"])
                param.add_(update.to(param.dtype), alpha=-group["lr"])
        return loss
