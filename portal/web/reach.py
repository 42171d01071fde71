"""What a lead or a manager reaches on the web pages, by the portal's existing roles.

- lead: the visits of their team's members and their own (``scope.visit_filter``),
  the cases of their team (``scope.case_filter`` within the team), and may decide the
  reviews the portal lets a lead decide (``portal.services.push``);
- admin: the portal has no "manager" role; its admin is the council-wide account that
  already reads every visit, photo and letter (the CRM export), so a manager signs in
  as an admin and sees every team's queue and compliance, read-only (an admin decides
  no reviews);
- officer: nothing here ("not for your role").
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from portal.models import CaseRow
from portal.services import scope
from sync.protocol import Role

#: The roles that may use the web pages.
WEB_ROLES = frozenset({Role.LEAD.value, Role.ADMIN.value})


def visits_reached(caller: scope.Caller) -> ColumnElement[bool]:
    """Visits the caller's web pages show."""
    return true() if caller.is_admin else scope.visit_filter(caller)


def cases_reached(caller: scope.Caller) -> ColumnElement[bool]:
    """The team's cases (every team's, for an admin), never purged ones."""
    live = CaseRow.purged.is_(False)
    if caller.is_admin:
        return live
    return scope.case_filter(caller) & (CaseRow.team_id == caller.team_id)

