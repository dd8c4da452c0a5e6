"""bert4keras' AdaFactor (optimizers.py `AdaFactorV1`, unfactored as Su's CLUE scripts set it): our steps against
the update rule written out in numpy, and against transformers' Adafactor where the two must agree."""

import numpy as np
import pytest
import torch
from transformers.optimization import Adafactor

from kexue_models.clue.optim import AdaFactor


def bert4keras_steps(param, grads, lr=5e-4, beta1=0.9, eps1=1e-30, eps2=1e-3, clip=1.0):
    """AdaFactorV1.get_updates for an unfactored parameter, line by line, in float64."""
    p, v, m = param.astype(np.float64), np.zeros_like(param, np.float64), np.zeros_like(param, np.float64)
    for t, g in enumerate(grads, start=1):
        beta2 = 1.0 - t**-0.8
        v = beta2 * v + (1.0 - beta2) * (g**2 + eps1)
        u = g / np.sqrt(v + eps1)
        u = u / max(1.0, np.sqrt(np.mean(u**2)) / clip)
        m = beta1 * m + (1.0 - beta1) * u
        p = p - lr * m * max(np.sqrt(np.mean(p**2)), eps2)
    return p


def test_steps_follow_bert4keras_update_rule():
    rng = np.random.default_rng(0)
    initial = rng.normal(size=(5, 7)).astype(np.float32)
    grads = [rng.normal(scale=10.0 ** rng.integers(-3, 2), size=(5, 7)).astype(np.float32) for _ in range(6)]
    param = torch.nn.Parameter(torch.tensor(initial))
    optimizer = AdaFactor([param], lr=5e-2)
    for grad in grads:
        param.grad = torch.tensor(grad)
        optimizer.step()
    np.testing.assert_allclose(param.detach().numpy(), bert4keras_steps(initial, grads, lr=5e-2), rtol=1e-5, atol=1e-7)


def test_tiny_parameters_move_by_the_epsilon2_floor():
    param = torch.nn.Parameter(torch.zeros(4))
    param.grad = torch.tensor([1.0, -2.0, 3.0, -4.0])
    AdaFactor([param], lr=1.0).step()
    # step 1: v = g², u = sign(g), RMS 1 (no clipping), m = 0.1·u, scale max(RMS(0), 1e-3) = 1e-3
    torch.testing.assert_close(param.detach(), -1e-4 * param.grad.sign())


def test_first_step_equals_transformers_adafactor_on_vectors():
    """Unfactored (1-D) and at step 1 the two orders of scaling and averaging coincide."""
    initial, grad = torch.randn(16), torch.randn(16)
    ours, theirs = torch.nn.Parameter(initial.clone()), torch.nn.Parameter(initial.clone())
    ours.grad, theirs.grad = grad.clone(), grad.clone()
    AdaFactor([ours], lr=5e-4).step()
    Adafactor([theirs], lr=5e-4, beta1=0.9, relative_step=False, scale_parameter=True, warmup_init=False).step()
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("arguments", [{"lr": 0.0}, {"beta1": 1.0}])
def test_bad_settings_are_named(arguments):
    with pytest.raises(ValueError, match=next(iter(arguments))):
        AdaFactor([torch.nn.Parameter(torch.zeros(1))], **arguments)
