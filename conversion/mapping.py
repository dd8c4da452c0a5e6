"""The generic engine that applies a declarative rule table to a checkpoint's variables.

A table is a list of `Rule(source regex, target, transform)`; the target is a `re` template, or a function of
the match where a name needs arithmetic; a `None` target means "ignore on purpose" (optimizer slots, step
counters). The engine checks that every source variable is consumed or
ignored, that every target parameter of the model is filled exactly once, and that every shape matches,
and raises `ConversionError` naming the variable and what was expected.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .errors import ConversionError


def identity(array: np.ndarray) -> np.ndarray:
    return array


def transpose(array: np.ndarray) -> np.ndarray:
    """TensorFlow Dense kernels are [in, out]; torch Linear weights are [out, in]."""
    return array.T


@dataclass(frozen=True)
class Rule:
    source: str
    target: str | Callable[[re.Match], str] | None
    transform: Callable[[np.ndarray], np.ndarray] = identity

    def match(self, name: str) -> str | bool | None:
        """The target name for `name`, None when ignored on purpose, False when the rule does not apply."""
        found = re.fullmatch(self.source, name)
        if found is None:
            return False
        if self.target is None:
            return None
        return self.target(found) if callable(self.target) else found.expand(self.target)


@dataclass
class MappingPlan:
    """Which source variable becomes which target parameter, and which were ignored."""

    targets: dict[str, tuple[str, Rule]]
    ignored: list[str]


def plan_mapping(
    source_names: Iterable[str], rules: list[Rule], expected: Mapping[str, tuple[int, ...]], where: str
) -> MappingPlan:
    """Match every source name against the table; check coverage both ways. `where` names the source."""
    targets: dict[str, tuple[str, Rule]] = {}
    ignored, unknown = [], []
    for name in sorted(source_names):
        for rule in rules:
            target = rule.match(name)
            if target is False:
                continue
            if target is None:
                ignored.append(name)
            elif target not in expected:
                unknown.append(f"{name} (would become {target}, which the model does not have)")
            elif target in targets:
                raise ConversionError(f"{where}: variables {targets[target][0]!r} and {name!r} both map to {target}")
            else:
                targets[target] = (name, rule)
            break
        else:
            unknown.append(name)
    if unknown:
        raise ConversionError(f"{where}: unexpected variables, neither mapped nor ignored: {', '.join(unknown)}")
    missing = sorted(set(expected) - set(targets))
    if missing:
        raise ConversionError(f"{where}: no variable provides these parameters: {', '.join(missing)}")
    return MappingPlan(targets=targets, ignored=ignored)


def convert_tensors(
    plan: MappingPlan,
    read: Callable[[str], np.ndarray],
    expected: Mapping[str, tuple[int, ...]],
    where: str,
    progress: Callable[[Iterable], Iterable] = iter,
) -> dict[str, torch.Tensor]:
    """Read, transform and shape-check every planned tensor; float32 unless the source says otherwise."""
    state_dict = {}
    for target in progress(sorted(plan.targets)):
        name, rule = plan.targets[target]
        array = rule.transform(read(name))
        if tuple(array.shape) != tuple(expected[target]):
            raise ConversionError(
                f"{where}: variable {name!r} has shape {source_layout(array.shape, rule)} but the config "
                f"expects {source_layout(expected[target], rule)} (it becomes {target})"
            )
        state_dict[target] = torch.from_numpy(np.ascontiguousarray(array))
    return state_dict


def source_layout(shape: Iterable[int], rule: Rule) -> list[int]:
    """A target shape as the source stores it, i.e. before the rule's transform."""
    shape = list(shape)
    return shape[::-1] if rule.transform is transpose else shape


def conversion_progress(items: Iterable) -> Iterable:
    return tqdm(items, desc="converting", unit="tensor", leave=False)


def load_mapped_weights(
    model: torch.nn.Module,
    source_names: Iterable[str],
    rules: list[Rule],
    read: Callable[[str], np.ndarray],
    where: str,
) -> MappingPlan:
    """Map, read and check every source variable into `model`, built on the meta device; return the plan.

    Tied parameters are not expected from the source: they are tied to the parameter that is.
    """
    tied = set(model._tied_weights_keys) if model.config.tie_word_embeddings else set()
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items() if name not in tied}
    plan = plan_mapping(source_names, rules, expected, where)
    state_dict = convert_tensors(plan, read, expected, where, progress=conversion_progress)
    model.load_state_dict(state_dict, strict=False, assign=True)
    model.tie_weights()
    on_meta = [name for name, tensor in model.state_dict().items() if tensor.is_meta]
    if on_meta:
        raise ConversionError(f"{where}: parameters left without a value: {on_meta}")
    return plan
