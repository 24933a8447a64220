"""One error tree for the whole package.

Every error the ``kb`` command can report derives from :class:`KbError`. The CLI maps
:class:`UsageProblem` (bad input, detected before anything changes) to exit code 2 and every
other :class:`KbError` to exit code 1.
"""

from __future__ import annotations


class KbError(Exception):
    """Root of every platform-kb error."""

    exit_code: int = 1


class UsageProblem(KbError):
    """Bad input (a flag, a profile, a parameter, a front matter): nothing was changed."""

    exit_code = 2


class MissingPrerequisite(UsageProblem):
    """A system tool or optional extra is missing; the message names what to install."""
