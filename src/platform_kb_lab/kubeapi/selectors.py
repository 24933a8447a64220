"""Label and field selectors, parsed and matched as the real API server does.

Used by the store's ``list``/``watch`` and by the HTTP layer's ``labelSelector`` / ``fieldSelector``
query parameters; lab parts (the operator emulation) use :meth:`LabelSelector.from_match_labels`
to match a Service selector against pod labels.

Grammar and semantics follow k8s.io/apimachinery ``pkg/labels/selector.go`` (label selectors:
``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x,y)``, ``a``, ``!a``, ``a>1``, ``a<1``;
``!=`` and ``notin`` also match objects without the label) and ``pkg/fields/selector.go`` (field
selectors: ``f=v``, ``f==v``, ``f!=v``, comma-separated, ``\\`` escapes ``,``, ``=`` and ``\\``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector that does not parse or does not validate."""


EQUALS = "="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(_NAME)
_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_VALUE_RE = re.compile(rf"({_NAME})?")
_TOKEN_RE = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s,=!()<>]+)")


def validate_label_key(key: str) -> None:
    """A qualified name: optional DNS-subdomain prefix and ``/``, then a name of up to 63 characters."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _SUBDOMAIN_RE.fullmatch(prefix)):
        raise SelectorError(f"invalid label key {key!r}: prefix part must be a DNS-1123 subdomain")
    if not name or len(name) > 63 or not _NAME_RE.fullmatch(name):
        raise SelectorError(
            f"invalid label key {key!r}: name part must consist of alphanumeric characters, '-', '_' or '.', "
            "start and end with an alphanumeric character, and be at most 63 characters"
        )


def validate_label_value(value: str) -> None:
    if len(value) > 63 or not _VALUE_RE.fullmatch(value):
        raise SelectorError(
            f"invalid label value {value!r}: must be 63 characters or less and consist of alphanumeric "
            "characters, '-', '_' or '.', starting and ending with an alphanumeric character"
        )


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        value = labels.get(self.key)
        if op == EQUALS:
            return value == self.values[0]
        if op == IN:
            return value is not None and value in self.values
        if op == NOT_EQUALS:
            return value != self.values[0]
        if op == NOT_IN:
            return value is None or value not in self.values
        if value is None:
            return False
        try:
            number = int(value)
        except ValueError:
            return False
        return number > int(self.values[0]) if op == GREATER_THAN else number < int(self.values[0])

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        """Parse the ``labelSelector`` string form; SelectorError when it is malformed."""
        if text is None or not text.strip():
            return cls()
        return cls(_LabelParser(text).parse())

    @classmethod
    def from_match_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        """Equality on every pair, as a Service ``spec.selector`` selects pods."""
        return cls(tuple(Requirement(k, EQUALS, (str(v),)) for k, v in sorted(labels.items())))

    @classmethod
    def from_label_selector(cls, selector: Mapping[str, Any]) -> LabelSelector:
        """The structured ``metav1.LabelSelector`` form (``matchLabels`` + ``matchExpressions``)."""
        requirements = list(cls.from_match_labels(selector.get("matchLabels") or {}).requirements)
        operators = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
        for expression in selector.get("matchExpressions") or []:
            op = operators.get(expression.get("operator", ""))
            if op is None:
                raise SelectorError(f"{expression.get('operator')!r} is not a valid label selector operator")
            values = tuple(str(v) for v in expression.get("values") or ())
            requirements.append(_requirement(str(expression.get("key", "")), op, values))
        return cls(tuple(requirements))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _requirement(key: str, op: str, values: tuple[str, ...]) -> Requirement:
    """Validated like ``labels.NewRequirement``."""
    validate_label_key(key)
    if op in (IN, NOT_IN) and not values:
        raise SelectorError(f"for 'in', 'notin' operators, values set can't be empty (key {key!r})")
    if op in (EQUALS, NOT_EQUALS) and len(values) != 1:
        raise SelectorError(f"exact-match compatibility requires one single value (key {key!r})")
    if op in (EXISTS, DOES_NOT_EXIST) and values:
        raise SelectorError(f"values set must be empty for exists and does not exist (key {key!r})")
    if op in (GREATER_THAN, LESS_THAN):
        if len(values) != 1 or not re.fullmatch(r"-?\d+", values[0]):
            raise SelectorError(
                f"for 'gt', 'lt' operators, exactly one integer value is required (key {key!r})"
            )
        return Requirement(key, op, values)
    for value in values:
        validate_label_value(value)
    return Requirement(key, op, values)


class _LabelParser:
    """Recursive-descent parser over the token stream of ``labels.Lexer``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        tokens: list[str] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN_RE.match(text, pos)
            if match is None:  # pragma: no cover - the token pattern accepts every non-space character
                raise SelectorError(f"unable to parse requirement: {text!r}")
            tokens.append(match.group(1))
            pos = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> str | None:
        token = self._peek()
        self.pos += 1
        return token

    def _fail(self, found: str | None, expected: str) -> SelectorError:
        return SelectorError(
            f"unable to parse requirement: found {found or ''!r}, expected: {expected} in {self.text!r}"
        )

    @staticmethod
    def _is_identifier(token: str | None) -> bool:
        return token is not None and token not in ("!=", "==", "=", "!", "(", ")", ",", ">", "<")

    def parse(self) -> tuple[Requirement, ...]:
        requirements = [self._requirement()]
        while self._peek() is not None:
            token = self._next()
            if token != ",":
                raise self._fail(token, "','")
            requirements.append(self._requirement())
        return tuple(requirements)

    def _requirement(self) -> Requirement:
        token = self._next()
        if token == "!":
            key = self._next()
            if not self._is_identifier(key):
                raise self._fail(key, "identifier after '!'")
            return _requirement(str(key), DOES_NOT_EXIST, ())
        if not self._is_identifier(token):
            raise self._fail(token, "'!', identifier")
        key = str(token)
        if self._peek() in (None, ","):
            return _requirement(key, EXISTS, ())
        op_token = self._next()
        op = {
            "=": EQUALS,
            "==": EQUALS,
            "!=": NOT_EQUALS,
            "in": IN,
            "notin": NOT_IN,
            ">": GREATER_THAN,
            "<": LESS_THAN,
        }.get(str(op_token))
        if op is None:
            raise self._fail(op_token, "'=', '!=', '==', 'in', 'notin', '>', '<'")
        if op in (IN, NOT_IN):
            return _requirement(key, op, self._value_set())
        if self._peek() in (None, ","):
            return _requirement(key, op, ("",))
        value = self._next()
        if not self._is_identifier(value):
            raise self._fail(value, "identifier")
        return _requirement(key, op, (str(value),))

    def _value_set(self) -> tuple[str, ...]:
        token = self._next()
        if token != "(":
            raise self._fail(token, "'('")
        values: list[str] = []
        expect_value = True
        while True:
            token = self._next()
            if token == ")":
                if expect_value and values:  # "(a,)" keeps an empty value, as upstream does
                    values.append("")
                return tuple(values)
            if token == ",":
                if expect_value:
                    values.append("")
                expect_value = True
            elif self._is_identifier(token) and expect_value:
                values.append(str(token))
                expect_value = False
            else:
                raise self._fail(token, "',', ')' or identifier")


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'!=' if self.negated else '='}{escaped}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of ``field=value`` / ``field!=value`` terms."""

    requirements: tuple[FieldRequirement, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> FieldSelector:
        if text is None or not text.strip():
            return cls()
        return cls(tuple(_field_term(term) for term in _split_unescaped(text, ",")))

    @property
    def empty(self) -> bool:
        return not self.requirements

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(r.field for r in self.requirements)

    def matches(self, value_of: Callable[[str], str]) -> bool:
        return all((value_of(r.field) == r.value) != r.negated for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector {text!r}: trailing backslash")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            if nxt not in ("\\", ",", "="):
                raise SelectorError(f"invalid field selector value {value!r}: invalid escape sequence")
            out.append(nxt)
        else:
            out.append(char)
    return "".join(out)


def _field_term(term: str) -> FieldRequirement:
    # fields.splitTerm: the first unescaped operator wins, "!=" and "==" before "="
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for symbol in ("!=", "==", "="):
            if term.startswith(symbol, i):
                field, value = term[:i].strip(), _unescape(term[i + len(symbol) :])
                if not field:
                    raise SelectorError(f"invalid field selector term {term!r}")
                return FieldRequirement(field, value, negated=symbol == "!=")
        i += 1
    raise SelectorError(f"invalid selector: {term!r}; can't understand {term!r}")


def field_value(obj: Mapping[str, Any], label: str) -> str:
    """The string value of a field label of an object, ``""`` when absent (``fields.Set`` semantics)."""
    if label == "source":  # events: "source" is source.component (pkg/apis/core/v1/conversion.go)
        label = "source.component"
    node: Any = obj
    for part in label.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
        if node is None:
            return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)
