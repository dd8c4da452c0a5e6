"""Every folder a kexue model is saved to is a complete Hub repo: its code as flat sibling files, and an
`auto_map` naming every Auto class the model supports.

transformers exports remote code by copying the file that defines the class and the files it imports with
single-dot sibling imports (`dynamic_module_utils.custom_object_save`). The package keeps configurations in a
sibling package (`from ..configuration.configuration_x import ...`), which that cannot follow, so the models
write their code themselves: the module's source and that of every module it imports relatively, side by side,
with each relative import flattened to `from .module import`. The package's files are the one source of the
exported ones. This file is exported too, so a model loaded as remote code saves the same way.
"""

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transformers import PreTrainedModel

RELATIVE_IMPORT = re.compile(r"^(\s*from\s+)(\.+)([\w.]+)(\s+import\b)", re.MULTILINE)


def flat_sources(path: Path) -> dict[str, str]:
    """{file name: source with flattened imports} for the module at `path` and all it imports relatively."""
    sources, pending = {}, [Path(path).resolve()]
    while pending:
        current = pending.pop()
        if current.name in sources:
            continue

        def flatten(found: re.Match, folder: Path = current.parent) -> str:
            dots, dotted = found[2], found[3].split(".")
            pending.append(folder.joinpath(*[".."] * (len(dots) - 1), *dotted).with_suffix(".py").resolve())
            return f"{found[1]}.{dotted[-1]}{found[4]}"

        sources[current.name] = RELATIVE_IMPORT.sub(flatten, current.read_text(encoding="utf-8"))
    return sources


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed over `path` if the block succeeds, removed if not:
    `path` is complete or absent, whatever library writes it."""
    descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(staging)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    with staged_file(path) as staging:
        staging.write_text(text, encoding="utf-8")


def auto_map(model_class: type) -> dict[str, str]:
    """AutoConfig and every Auto class of the model's module (its AUTO_MAP), as `module.Class` references."""
    module = sys.modules[model_class.__module__]
    config_class = model_class.config_class
    mapping = {"AutoConfig": f"{config_class.__module__.rsplit('.', 1)[-1]}.{config_class.__name__}"}
    stem = model_class.__module__.rsplit(".", 1)[-1]
    mapping.update({auto: f"{stem}.{head.__name__}" for auto, head in module.AUTO_MAP.items()})
    return mapping


class SavesHubFiles:
    """Mixin for the models' base classes: `save_pretrained` also writes the code and the full auto_map."""

    def save_pretrained(self: PreTrainedModel, save_directory, *args, **kwargs):
        self.config.auto_map = auto_map(type(self))
        super().save_pretrained(save_directory, *args, **kwargs)
        if kwargs.get("is_main_process", True):
            for name, source in flat_sources(Path(sys.modules[type(self).__module__].__file__)).items():
                write_text_atomic(Path(save_directory) / name, source)
            write_card(Path(save_directory))


def write_card(folder: Path) -> None:
    """A model card, unless the folder has one; the card templates come with the package only."""
    if (folder / "README.md").exists():
        return
    try:
        from kexue_models.model_cards import render_card
    except ImportError:  # loaded as remote code, without the package
        return
    render_card(folder)
