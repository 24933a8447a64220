"""Merge and check parameter values before any cell runs.

Where this sits in the flow: ``params.parse_parameters`` → **validate.resolve_parameters** →
execute. Sources merge in this order, later wins: the runbook's defaults < the profile
(``Profile.as_parameters()``; names the runbook does not declare are ignored) < the params file
(YAML mapping) < ``-p NAME VALUE``. Unknown names (params file, ``-p``), wrong types, values
outside a declared range or choice list, missing required values, literal secrets and secret
references that do not resolve are all reported together as one :class:`UsageProblem` naming each
parameter; the caller then exits 2 with nothing executed and no record written.

Also refused here, before anything starts: non-finite numbers (``nan``, ``inf``); a ``[file]``
parameter (kubeconfig, identity file, known_hosts...) naming a path that is not a readable file;
a ``file:`` secret reference that does not name a readable file (its text is not echoed: it may be
a value pasted after ``file:``); a secret too short to be masked.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageProblem
from ..secrets import MIN_SECRET_LENGTH, SecretError, is_reference, parse_reference, resolve
from .coerce import NONE_WORDS, coerce
from .params import ParamSpec


@dataclass(frozen=True)
class ResolvedParameters:
    """The values papermill injects (secret parameters keep their reference) and, separately, the
    resolved secret values — for the masker only, never written anywhere."""

    values: dict[str, Any]
    sources: dict[str, str]
    secret_values: tuple[str, ...] = field(default=(), repr=False)


def read_params_file(path: Path) -> dict[str, Any]:
    """A YAML mapping of parameter values."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageProblem(f"params file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageProblem(f"params file {path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageProblem(f"params file {path}: expected a mapping of parameter names to values")
    return data


def _unknown(name: str, specs: Mapping[str, ParamSpec], where: str) -> str:
    close = difflib.get_close_matches(name, list(specs), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(specs) or "none"
    return f"{where}: unknown parameter {name!r}{hint}; this runbook declares: {known}"


def _convert(spec: ParamSpec, value: Any, where: str) -> Any:
    if value is None or (spec.nullable and isinstance(value, str) and value.strip().lower() in NONE_WORDS):
        if spec.nullable or spec.required:
            return None  # a missing required value is reported by _check
        raise UsageProblem(f"{where}: parameter {spec.name!r} does not accept None (declared {spec.type})")
    if spec.secret:
        if not isinstance(value, str) or (value and not is_reference(value)):
            raise UsageProblem(
                f"{where}: parameter {spec.name!r} is a secret: pass a reference env:NAME or file:PATH, "
                "not the value (the value was not recorded)"
            )
        return value
    return coerce(spec.type, value, f"{where}: parameter {spec.name!r}")


def _check(spec: ParamSpec, value: Any) -> str | None:
    """The problem with a final value, or None."""
    if value is None or value == "":
        return f"parameter {spec.name!r} is required (pass -p {spec.name} VALUE)" if spec.required else None
    if spec.low is not None and value < spec.low or spec.high is not None and value > spec.high:
        span = spec.constraint_label().split(",")[0]
        return f"parameter {spec.name!r}: {value!r} is outside the allowed range {span}"
    if spec.choices and value not in spec.choices:
        allowed = " | ".join(str(c) for c in spec.choices)
        return f"parameter {spec.name!r}: {value!r} is not one of {allowed}"
    return None


def local_path(value: str, base: Path | None) -> Path:
    """A parameter's path as the kernel sees it: ``~`` expanded, relative to the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base or Path.cwd()) / path


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable file, or None."""
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a file"
    if not os.access(path, os.R_OK):
        return "is not readable"
    return None


def _check_path(spec: ParamSpec, value: Any, source: str, base: Path | None) -> str | None:
    if not spec.path or not isinstance(value, str) or not value:
        return None
    path = local_path(value, base)
    problem = file_problem(path)
    return f"parameter {spec.name!r} ({source}): file {path} {problem}" if problem else None


def _check_secret(
    spec: ParamSpec, value: str, base: Path | None, environ: Mapping[str, str] | None
) -> tuple[str | None, str | None]:
    """(resolved value, problem). A ``file:`` reference must name a readable file; an ``env:``
    reference that does not resolve is a problem only for a required parameter (an optional secret
    is left to the kernel: ``rb.secret`` fails there with the same message if the runbook uses it)."""
    ref = parse_reference(value)
    if ref.scheme == "file" and file_problem(local_path(ref.target, base)):
        return None, (
            f"parameter {spec.name!r}: its file: reference does not name a readable file "
            "(the text after file: is not shown: it may be a value pasted by mistake)"
        )
    try:
        secret = resolve(value, base=base, environ=dict(environ) if environ is not None else None)
    except SecretError as exc:
        return None, (f"parameter {spec.name!r}: {exc}" if spec.required else None)
    if len(secret) < MIN_SECRET_LENGTH:
        return None, (
            f"parameter {spec.name!r}: the secret {ref} points to is shorter than {MIN_SECRET_LENGTH} "
            "characters and cannot be masked safely"
        )
    return secret, None


def resolve_parameters(
    specs: list[ParamSpec],
    profile: Mapping[str, Any] | None = None,
    params_file: Mapping[str, Any] | None = None,
    cli: list[tuple[str, str]] | None = None,
    base: Path | None = None,
    environ: Mapping[str, str] | None = None,
    params_file_name: str = "params file",
) -> ResolvedParameters:
    """Merge profile < params file < -p over the defaults and check everything (see module doc)."""
    by_name = {s.name: s for s in specs}
    values = {s.name: s.default for s in specs}
    sources = {s.name: "default" for s in specs}
    problems: list[str] = []

    layers: list[tuple[str, list[tuple[str, Any]], bool]] = [
        ("profile", list((profile or {}).items()), False),
        (params_file_name, list((params_file or {}).items()), True),
        ("-p", list(cli or []), True),
    ]
    for where, items, strict in layers:
        for name, raw in items:
            spec = by_name.get(name)
            if spec is None:
                if strict:
                    problems.append(_unknown(name, by_name, where))
                continue
            try:
                values[name] = _convert(spec, raw, where)
                sources[name] = where
            except UsageProblem as exc:
                problems.append(str(exc))

    secret_values: list[str] = []
    for spec in specs:
        problem = _check(spec, values[spec.name]) or _check_path(
            spec, values[spec.name], sources[spec.name], base
        )
        if problem:
            problems.append(problem)
        elif spec.secret and values[spec.name]:
            # resolved here to mask it before anything is written or printed
            secret, problem = _check_secret(spec, values[spec.name], base, environ)
            if problem:
                problems.append(problem)
            elif secret is not None:
                secret_values.append(secret)
    if problems:
        raise UsageProblem("invalid parameters:\n  " + "\n  ".join(dict.fromkeys(problems)))
    return ResolvedParameters(values=values, sources=sources, secret_values=tuple(secret_values))
