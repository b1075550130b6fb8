"""Who runs this invocation, for the journal, when `--operator` is not given.

The name comes from the environment (SUDO_USER: the person behind sudo; then the login name),
which anyone can set: a name that is not one clean line of text is not journaled. The account's
own name, from the password database, is used instead, with a note saying why.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

from isolement.model.names import check_statement
from isolement.model.text import shown

# The variables getpass.getuser() reads, after SUDO_USER.
_SOURCES = ("SUDO_USER", "LOGNAME", "USER", "LNAME", "USERNAME")


def account_name() -> str:
    """The name of the account this process runs as (not from the environment)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no entry (a container): say the uid
        return f"uid {os.getuid()}"


def default_operator(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(the operator's name, a note to print when the environment's name was not usable)."""
    environ = os.environ if environ is None else environ
    for variable in _SOURCES:
        value = environ.get(variable)
        if not value:
            continue
        try:
            return check_statement(value), None
        except ValueError as exc:
            fallback = account_name()
            note = (
                f"the operator name in {variable} ({shown(value)[:80]}) is not usable: {exc}; "
                f"journaled as {fallback!r} instead. Give --operator NAME to say who runs this."
            )
            return fallback, note
    return account_name(), None
