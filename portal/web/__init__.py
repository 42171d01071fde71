"""Web pages for leads and managers on any council PC: sign in, review queue, visits, compliance.

Server-rendered (Jinja2 templates, one stylesheet, no script). Every rule is the
portal's own service: sign-in, scope, review decisions, clocks and audit.
"""

from portal.web.render import install

__all__ = ["install"]
