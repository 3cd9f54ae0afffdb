"""The access rule every service calls before it loads or changes anything.

A caller may act when their role is one the action allows and the record's
jurisdiction lies in their own subtree (design §3). Sensitive categories,
purposes and break-glass are decided by the one policy in
``shared.security.policy``; this is its raising front door.
"""

from __future__ import annotations

from collections.abc import Collection

from .context import CallerContext, Role
from .errors import Forbidden
from .security.policy import default_policy


def authorize(
    caller: CallerContext,
    action: str,
    roles: Collection[Role],
    jurisdiction: str,
    category: str | None = None,
    purpose: str | None = None,
):
    """Raise Forbidden unless ``caller`` may perform ``action`` on a record in ``jurisdiction``.

    Returns the policy's Decision (break-glass reads are flagged for review).
    """
    decision = default_policy().decide(caller, action, roles, jurisdiction, category, purpose)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    return decision
