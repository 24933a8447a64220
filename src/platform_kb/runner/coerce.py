"""Convert one parameter value to its declared type (``-p`` strings, quoted YAML, papermill values).

Shared by :mod:`.params` (choices in a marker are converted to the parameter's type) and
:mod:`.validate` (every value from the profile, the params file and ``-p``); it imports neither.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from ..errors import UsageProblem

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
NONE_WORDS = frozenset({"none", "null", "~"})  # what a nullable parameter reads as None


class _TypeMismatch(ValueError):
    pass


def coerce(type_name: str, value: Any, where: str) -> Any:
    """Convert ``value`` to the declared type; strings (``-p``, quoted YAML) are parsed."""
    try:
        return _coerce(type_name, value)
    except _TypeMismatch as exc:
        raise UsageProblem(f"{where}: expected {type_name}, got {_show(value)}{exc}") from None


def _coerce(type_name: str, value: Any) -> Any:
    if type_name == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise _TypeMismatch("")
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _TypeMismatch(" (use true/false)")
    if type_name == "int":
        if isinstance(value, bool):
            raise _TypeMismatch("")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip(), 10)
            except ValueError:
                raise _TypeMismatch("") from None
        raise _TypeMismatch("")
    if type_name == "float":
        if isinstance(value, bool):
            raise _TypeMismatch("")
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise _TypeMismatch("") from None
        else:
            raise _TypeMismatch("")
        if not math.isfinite(number):
            raise _TypeMismatch(" (a finite number: nan and inf are not accepted)")
        return number
    if type_name in ("list", "dict"):
        wanted = list if type_name == "list" else dict
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise _TypeMismatch(" (not valid YAML/JSON)") from None
        if isinstance(value, wanted):
            return value
        raise _TypeMismatch("")
    raise _TypeMismatch(f" (unknown type {type_name})")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
