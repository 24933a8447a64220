"""Secret references and masking, shared by the runner and the in-kernel runbook API.

Where this sits in the flow: a runbook parameter declared ``[secret]`` never holds a value, only a
reference, ``env:NAME`` (an environment variable) or ``file:PATH`` (a file's content, one trailing
newline dropped; a relative PATH is taken from the project root, the kernel's working directory).

* Inside the kernel, ``rb.secret(ref)`` calls :func:`resolve` and gets the value.
* The runner (``platform_kb.runner``) resolves the same references itself *before* execution, so
  that a :class:`Masker` can replace every occurrence of each value (and of its common encodings)
  in the output notebook, its metadata, ``summary.json`` and the console before anything is written.

Nothing here ever writes a resolved value anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageProblem

MASK = "********"
SCHEMES = ("env", "file")
MIN_SECRET_LENGTH = 4  # shorter values cannot be masked without mangling unrelated text
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.DOTALL
)


class SecretError(UsageProblem):
    """A secret reference is malformed or cannot be resolved (the message never holds a value)."""


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference: ``scheme`` is ``env`` or ``file``; ``target`` the variable name or path."""

    scheme: str
    target: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"


def is_reference(value: Any) -> bool:
    """True if ``value`` is a well-formed ``env:NAME`` or ``file:PATH`` string."""
    try:
        parse_reference(value)
    except SecretError:
        return False
    return True


def parse_reference(value: Any) -> SecretRef:
    """``env:NAME`` / ``file:PATH`` -> SecretRef; anything else is a SecretError (not echoing the value)."""
    if not isinstance(value, str):
        raise SecretError("a secret must be a reference env:NAME or file:PATH, not a value")
    scheme, sep, target = value.partition(":")
    if not sep or scheme not in SCHEMES or not target:
        raise SecretError("a secret must be a reference env:NAME or file:PATH, not a value")
    if scheme == "env" and not _ENV_NAME.match(target):
        raise SecretError(f"env: reference needs a variable name, got {target!r}")
    return SecretRef(scheme, target)


def resolve(value: str, base: Path | None = None, environ: dict[str, str] | None = None) -> str:
    """The secret a reference points to; SecretError naming the reference (never the value) otherwise."""
    ref = parse_reference(value)
    env = os.environ if environ is None else environ
    if ref.scheme == "env":
        if ref.target not in env:
            raise SecretError(f"{ref}: environment variable {ref.target} is not set")
        secret = env[ref.target]
    else:
        path = Path(ref.target).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        try:
            secret = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SecretError(f"{ref}: cannot read {path}: {exc.strerror}") from None
        secret = secret[:-1] if secret.endswith("\n") else secret
        secret = secret[:-1] if secret.endswith("\r") else secret
    if not secret:
        raise SecretError(f"{ref}: the secret is empty")
    return secret


def encodings(secret: str) -> set[str]:
    """The forms a secret commonly takes in text: raw, JSON/repr-escaped, URL-quoted, base64; and,
    for a multi-line secret (a key file), each of its longer lines."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], urllib.parse.quote(secret, safe="")}
    forms.add(urllib.parse.quote_plus(secret))
    raw = secret.encode("utf-8")
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update({text, text.rstrip("=")})
    if "\n" in secret:
        forms.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= 8)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@dataclass
class Masker:
    """Replaces every known secret (and its encodings) with :data:`MASK`; longer forms first."""

    _forms: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Masker:
        masker = cls()
        for secret in secrets:
            masker.add(secret)
        return masker

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise SecretError(f"a secret shorter than {MIN_SECRET_LENGTH} characters cannot be masked safely")
        known = set(self._forms)
        known.update(encodings(secret))
        self._forms = sorted(known, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def data(self, value: Any) -> Any:
        """A copy of a JSON-like structure (dicts, lists, strings) with every string masked, keys too."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return type(value)(
                (self.text(k) if isinstance(k, str) else k, self.data(v)) for k, v in value.items()
            )
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value


def mask_private_keys(text: str) -> str:
    """Replace any PEM private key block (a last line of defence when publishing)."""
    return _PEM_BLOCK.sub("-----PRIVATE KEY REMOVED-----", text)
