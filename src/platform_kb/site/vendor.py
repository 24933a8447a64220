"""Front-end files the site serves itself: Mermaid, pinned by version and checksum.

Material for MkDocs renders ``mermaid`` code blocks with Mermaid, and fetches it from unpkg when no
``mermaid`` global exists (``material/templates/assets/javascripts/bundle.*.min.js``:
``typeof mermaid=="undefined"`` → ``https://unpkg.com/mermaid@11/dist/mermaid.min.js``). The site
is read on a closed network, so the page loads its own copy first (``extra_javascript`` in
``mkdocs.yml``) and Material uses that one.

Where it sits: ``scripts/setup`` runs ``kb docs vendor`` once, which takes the
file out of the npm package (``npm pack``, whose tarball npm checks against the registry's
integrity) into ``<venv>/share/platform-kb/`` and checks it against :data:`MERMAID`'s sha256.
``kb docs generate`` copies it to ``docs/_generated/assets/javascripts/``; a missing or altered
copy stops generation with a message naming ``scripts/setup``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingPrerequisite


@dataclass(frozen=True)
class VendoredScript:
    """One file of an npm package, pinned: which package, which file inside it, its sha256."""

    npm_package: str
    version: str
    member: str  # path inside the npm tarball
    sha256: str
    site_path: str  # where the built site serves it (relative to docs/)

    @property
    def name(self) -> str:
        return Path(self.member).name


MERMAID = VendoredScript(
    npm_package="mermaid",
    version="11.17.2",  # Material 9.8 asks unpkg for mermaid@11
    member="package/dist/mermaid.min.js",
    sha256="581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8",
    site_path="_generated/assets/javascripts/mermaid.min.js",
)
VENDORED: tuple[VendoredScript, ...] = (MERMAID,)


def vendor_dir(prefix: Path | None = None) -> Path:
    """Where ``scripts/setup`` keeps the vendored files: ``<venv>/share/platform-kb``."""
    return (prefix or Path(sys.prefix)) / "share" / "platform-kb"


def local_path(script: VendoredScript, prefix: Path | None = None) -> Path:
    """Where ``scripts/setup`` keeps ``script``: versioned, so a new pin never reads an old copy."""
    return vendor_dir(prefix) / f"{script.npm_package}-{script.version}-{script.name}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendored_copy(script: VendoredScript, prefix: Path | None = None) -> Path:
    """The checked local copy of ``script``; MissingPrerequisite when it is absent or altered."""
    path = local_path(script, prefix)
    if not path.is_file():
        raise MissingPrerequisite(
            f"{path} is missing: run scripts/setup (it takes {script.npm_package}@{script.version} from npm)"
        )
    if sha256_of(path) != script.sha256:
        raise MissingPrerequisite(
            f"{path} does not match the pinned sha256 of {script.npm_package}@{script.version}: "
            "remove it and run scripts/setup"
        )
    return path


def copy_into(docs_dir: Path, prefix: Path | None = None) -> list[Path]:
    """Put every vendored file where the site serves it; returns the files written (unchanged: none)."""
    written = []
    for script in VENDORED:
        source = vendored_copy(script, prefix)
        target = docs_dir / script.site_path
        if target.is_file() and sha256_of(target) == script.sha256:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def fetch(script: VendoredScript, prefix: Path | None = None) -> Path:
    """``npm pack`` the package, take ``script.member`` out, check its sha256, keep it in :func:`vendor_dir`."""
    target = local_path(script, prefix)
    if target.is_file() and sha256_of(target) == script.sha256:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise MissingPrerequisite(
            "npm is not installed (Debian package npm): it fetches Mermaid for the site"
        )
    with tempfile.TemporaryDirectory(prefix="kb-vendor-") as tmp:
        spec = f"{script.npm_package}@{script.version}"
        subprocess.run([npm, "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True, timeout=300)
        tarball = next(Path(tmp).glob(f"{script.npm_package}-{script.version}.tgz"))
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(script.member)
            if member is None:
                raise MissingPrerequisite(f"{spec} has no {script.member}")
            data = member.read()
    if hashlib.sha256(data).hexdigest() != script.sha256:
        raise MissingPrerequisite(f"{spec}: {script.member} does not match the pinned sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target
