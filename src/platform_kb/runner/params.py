"""Read a runbook's parameter declarations from its ``parameters`` cell.

Where this sits in the flow: ``source.load_runbook`` → **params.parse_parameters** →
``validate.resolve_parameters`` → execute. The same specs feed ``kb run RUNBOOK --help`` and the
parameters table on the runbook's site page.

The convention (one assignment per parameter in the cell tagged ``parameters``)::

    # %% tags=["parameters"]
    node_host: str = ""              # 노드 주소 [required]
    ingress_nodeport: int = 30998    # ingress-nginx의 NodePort [30000..32767]
    mode: str = "check"              # 실행 모드 [check|fix]
    timeout: float = 5.0             # 요청 제한 시간(초) [0.1..]
    minio_secret_key: str = "env:MINIO_SECRET_KEY"  # MinIO 비밀 키 [secret]
    note: str | None = None          # 메모 (None 허용)

* The annotation gives the type: ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict`` (``list[str]``
  and ``dict[str, str]`` count as list/dict); ``T | None`` or ``Optional[T]`` also accepts None.
  Without an annotation the default's type is used.
* The default must be a literal. The trailing comment (or, failing that, the comment lines right
  above) is the description.
* Markers in square brackets at the end of the comment: ``[LOW..HIGH]`` a range (either end may be
  left out), ``[a|b|c]`` choices, ``[required]`` a value must be given (an empty string counts as
  missing), ``[secret]`` the value is a reference ``env:NAME`` or ``file:PATH``, never a literal,
  ``[file]`` the value (when not empty) names a readable file on this machine, checked before
  anything runs. The profile's connection files (:data:`PATH_PARAMETERS`: ``kubeconfig``,
  ``identity_file``, ``known_hosts``) are ``[file]`` parameters without the marker.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import io
import re
import tokenize
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import nbformat

from ..errors import UsageProblem
from ..secrets import is_reference
from .coerce import coerce

TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}
PARAMETERS_TAG = "parameters"
# a profile's local files (platform_kb.profiles); a runbook declaring them gets them checked as [file]
PATH_PARAMETERS = frozenset({"kubeconfig", "identity_file", "known_hosts"})
_MARKER = re.compile(r"\s*\[([^\[\]]+)\]\s*$")
_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})?\s*\.\.\s*({_NUMBER})?\s*$")
_CHOICES = re.compile(r"^[^|]+(\|[^|]+)+$")
_FLAGS = ("required", "secret", "file")
SCHEMA_VARIABLE = "params_schema"  # the parameters cell's `params_schema = "module:Class"`
_META = "platform_kb.param"  # the field metadata key param() writes
T = TypeVar("T")


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter."""

    name: str
    type: str  # a key of TYPES
    default: Any
    description: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    secret: bool = False
    required: bool = False
    nullable: bool = False
    path: bool = False  # [file]: a local file that must exist and be readable

    def type_label(self) -> str:
        label = self.type + (" | None" if self.nullable else "")
        return ("secret " if self.secret else "") + label

    def constraint_label(self) -> str:
        """``30000..32767``, ``a | b``, ``required`` ... (empty when unconstrained)."""
        parts = []
        if self.low is not None or self.high is not None:
            parts.append(f"{_num(self.low)}..{_num(self.high)}")
        if self.choices:
            parts.append(" | ".join(str(c) for c in self.choices))
        if self.required:
            parts.append("required")
        if self.secret:
            parts.append("env:NAME / file:PATH")
        if self.path:
            parts.append("a readable file")
        return ", ".join(parts)

    def default_label(self) -> str:
        if self.required and self.default in (None, ""):
            return "(required)"
        return repr(self.default) if not isinstance(self.default, str) else f'"{self.default}"'


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The first code cell tagged ``parameters`` (papermill's rule)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def parse_parameters(nb: nbformat.NotebookNode, where: str = "runbook") -> list[ParamSpec]:
    """Every parameter the ``parameters`` cell declares, in order (empty if there is no such cell)."""
    cell = parameters_cell(nb)
    if cell is None:
        return []
    return parse_parameter_source(cell.source, where)


def parse_parameter_source(source: str, where: str = "runbook") -> list[ParamSpec]:
    """The specs of a parameters cell: its literal declarations and, where it names one, a schema's fields."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UsageProblem(
            f"{where}: the parameters cell is not valid Python: {exc.msg} (line {exc.lineno})"
        ) from exc
    comments = _comments_by_line(source)
    specs: list[ParamSpec] = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation, value = node.target.id, node.annotation, node.value
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            name, annotation, value = node.targets[0].id, None, node.value
        else:
            continue
        if name == SCHEMA_VARIABLE:
            specs += schema_specs(_schema_ref(value, where), where)
            continue
        trailing, above = _comment_for(node, comments)
        specs.append(_spec(name, annotation, value, trailing, above, f"{where}: parameter {name!r}"))
    twice = sorted({s.name for s in specs if [x.name for x in specs].count(s.name) > 1})
    if twice:
        raise UsageProblem(f"{where}: parameter(s) declared twice (cell and schema?): {', '.join(twice)}")
    return specs


# --- typed schemas: a dataclass declares the parameters ---------------------------------------------
def param(
    default: Any,
    description: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[Any, ...] | None = None,
    required: bool = False,
    secret: bool = False,
    file: bool = False,
) -> Any:
    """A schema field: its default plus what a ``# 설명 [markers]`` comment says in a literal cell."""
    meta = {"description": description, "low": low, "high": high, "choices": choices,
            "required": required, "secret": secret, "file": file}  # fmt: skip
    return dataclasses.field(default=default, metadata={_META: meta})


def _schema_ref(value: ast.expr, where: str) -> str:
    ref = value.value if isinstance(value, ast.Constant) else None
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise UsageProblem(f'{where}: {SCHEMA_VARIABLE} must be a string "package.module:Class"')
    return ref


def load_schema(ref: str, where: str = "runbook") -> type:
    """The dataclass ``"package.module:Class"`` names (a UsageProblem when it cannot be imported)."""
    module_name, _, class_name = ref.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UsageProblem(f"{where}: parameter schema {ref!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise UsageProblem(f"{where}: parameter schema {ref!r} is not a dataclass")
    return cls


def schema_specs(ref: str | type, where: str = "runbook") -> list[ParamSpec]:
    """One spec per field of the schema, in field order (base classes first)."""
    cls = load_schema(ref, where) if isinstance(ref, str) else ref
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            raise UsageProblem(f"{where}: schema field {cls.__name__}.{f.name} is not declared with param()")
        specs.append(_field_spec(f, hints[f.name], meta, f"{where}: parameter {f.name!r}"))
    return specs


def _field_spec(f: dataclasses.Field, hint: Any, meta: Mapping[str, Any], where: str) -> ParamSpec:
    args = typing.get_args(hint)
    nullable = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if nullable else hint
    base = typing.get_origin(base) or base
    type_name = next((name for name, t in TYPES.items() if t is base), None)
    if type_name is None:
        raise UsageProblem(f"{where}: unsupported type {hint!r} (use {', '.join(TYPES)})")
    choices = meta["choices"]
    spec = ParamSpec(
        name=f.name,
        type=type_name,
        default=f.default,
        description=meta["description"],
        low=None if meta["low"] is None else float(meta["low"]),
        high=None if meta["high"] is None else float(meta["high"]),
        choices=tuple(coerce(type_name, c, f"{where}: choice") for c in choices) if choices else None,
        secret=bool(meta["secret"]),
        required=bool(meta["required"]),
        nullable=nullable,
        path=(bool(meta["file"]) or f.name in PATH_PARAMETERS) and type_name == "str",
    )
    _check_secret_default(spec, where)
    return spec


def build(cls: type[T], namespace: Mapping[str, Any]) -> T:
    """The schema's object from a kernel's globals: each field from its injected value (converted to
    the field's type: plain papermill passes ``-p`` values as it parsed them), else its default."""
    kwargs = {}
    for spec in schema_specs(cls, cls.__name__):
        if spec.name in namespace:
            value = namespace[spec.name]
            if value is None:
                kwargs[spec.name] = None if spec.nullable else "" if spec.type == "str" else spec.default
            else:
                kwargs[spec.name] = coerce(spec.type, value, f"parameter {spec.name!r}")
    return cls(**kwargs)


def _comments_by_line(source: str) -> dict[int, tuple[str, bool]]:
    """line number -> (comment text without '#', whether the comment is the whole line)."""
    found: dict[int, tuple[str, bool]] = {}
    lines = source.splitlines()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                line = lines[tok.start[0] - 1]
                found[tok.start[0]] = (tok.string.lstrip("#").strip(), not line[: tok.start[1]].strip())
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def _comment_for(node: ast.stmt, comments: dict[int, tuple[str, bool]]) -> tuple[str, str]:
    """(the trailing comment, the comment lines right above) of a statement."""
    trailing = ""
    for line in (node.end_lineno or node.lineno, node.lineno):
        if line in comments and not comments[line][1]:
            trailing = comments[line][0]
            break
    above: list[str] = []
    line = node.lineno - 1
    while line in comments and comments[line][1]:
        above.insert(0, comments[line][0])
        line -= 1
    return trailing, " ".join(above)


def _annotation_type(annotation: ast.expr | None, default: Any, where: str) -> tuple[str, bool]:
    """(type name, nullable) from an annotation, or from the default when there is none."""
    if annotation is None:
        if default is None:
            return "str", True
        name = type(default).__name__
        if name not in TYPES:
            raise UsageProblem(f"{where}: cannot infer a type from default {default!r}; add an annotation")
        return name, False
    # X | None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        others = [s for s in sides if s not in nones]
        if len(nones) == 1 and len(others) == 1:
            return _annotation_type(others[0], default, where)[0], True
    # Optional[X]
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) == "Optional":
        return _annotation_type(annotation.slice, default, where)[0], True
    # list[str], dict[str, str]
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) in ("list", "dict", "List", "Dict"):
        return _name(annotation.value).lower(), False
    name = _name(annotation)
    if name not in TYPES:
        raise UsageProblem(f"{where}: unsupported type {ast.unparse(annotation)!r} (use {', '.join(TYPES)})")
    return name, False


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _split_markers(comment: str) -> tuple[str, list[str]]:
    markers: list[str] = []
    while True:
        match = _MARKER.search(comment)
        if not match or not _is_marker(match.group(1)):
            return comment.strip(), markers
        markers.insert(0, match.group(1).strip())
        comment = comment[: match.start()]


def _is_marker(text: str) -> bool:
    text = text.strip()
    return text in _FLAGS or bool(_RANGE.match(text)) or bool(_CHOICES.match(text))


def _spec(
    name: str, annotation: ast.expr | None, value: ast.expr, comment: str, above: str, where: str
) -> ParamSpec:
    try:
        default = ast.literal_eval(value)
    except ValueError as exc:
        raise UsageProblem(f"{where}: the default must be a literal, got {ast.unparse(value)!r}") from exc
    type_name, nullable = _annotation_type(annotation, default, where)
    description, markers = _split_markers(comment)
    description = description or above
    low = high = None
    choices: tuple[Any, ...] | None = None
    for marker in markers:
        if marker in _FLAGS:
            continue
        if match := _RANGE.match(marker):
            if type_name not in ("int", "float"):
                raise UsageProblem(f"{where}: a range [{marker}] needs an int or float parameter")
            low = float(match.group(1)) if match.group(1) else None
            high = float(match.group(2)) if match.group(2) else None
        else:
            choices = tuple(coerce(type_name, c.strip(), f"{where}: choice") for c in marker.split("|"))
    spec = ParamSpec(
        name=name,
        type=type_name,
        default=default,
        description=description,
        low=low,
        high=high,
        choices=choices,
        secret="secret" in markers,
        required="required" in markers,
        nullable=nullable,
        path=("file" in markers or name in PATH_PARAMETERS) and type_name == "str",
    )
    _check_secret_default(spec, where)
    return spec


def _check_secret_default(spec: ParamSpec, where: str) -> None:
    default = spec.default
    if spec.secret and (spec.type != "str" or (default not in (None, "") and not is_reference(default))):
        raise UsageProblem(
            f"{where}: a [secret] parameter is a str whose default is empty or env:NAME / file:PATH"
        )
