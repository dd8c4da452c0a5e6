"""Reading the converters' small inputs, with errors that name the file and what was wrong."""

import json
from pathlib import Path

from .errors import ConversionError


def read_json_object(path: str | Path) -> dict:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConversionError(f"{path}: cannot read it ({error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConversionError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(raw, dict):
        raise ConversionError(f"{path}: expected a JSON object, found {type(raw).__name__}")
    return raw
