"""The access rule every service calls before it loads or changes anything.

A caller may act when their role is one the action allows and the record's
jurisdiction lies in their own subtree (design §3). Sensitive categories,
purposes and break-glass access extend this rule in one place, here.
"""

from __future__ import annotations

from typing import Collection

from .context import CallerContext, Role
from .errors import Forbidden


def authorize(
    caller: CallerContext,
    action: str,
    roles: Collection[Role],
    jurisdiction: str,
) -> None:
    """Raise Forbidden unless ``caller`` may perform ``action`` on a record in ``jurisdiction``."""
    if caller.role not in roles:
        raise Forbidden(f"the role {caller.role.value!r} may not {action}")
    if not caller.covers(jurisdiction):
        raise Forbidden(
            f"{action}: jurisdiction {jurisdiction} is outside the caller's "
            f"jurisdiction {caller.jurisdiction}"
        )
