"""Reading a pulled page (``GET /sync/pull``, PROTOCOL.md) into the plain change dicts the store applies.

The page's shape is checked here, key by key, as `sync.protocol.PullResponse` defines it
(every change an object with a known ``entity``, a string ``id``, integer ``version`` and
``seq``, a boolean ``deleted`` and an object or null ``data``; an integer ``next_cursor``
and a boolean ``has_more``), without building a pydantic model per change only to throw
it away: a page of 1,000 changes took 7-11 ms through the model, 0.3-0.4 ms here. A page
that does not have that shape is refused whole with `MalformedPage`, before the store sees
any of it. What ``data`` holds is the store's to check as it applies it (`fieldapp.sync_apply`).
"""

from __future__ import annotations

from typing import Any

from sync.errors import MalformedPage
from sync.protocol import Entity

Page = tuple[list[dict[str, Any]], int, bool]

_ENTITIES = frozenset(entity.value for entity in Entity)


def read_page(body: Any) -> Page:
    """(changes, next_cursor, has_more) of a parsed page body; `MalformedPage` naming the first fault."""
    if type(body) is not dict:
        raise MalformedPage("the answer is not a JSON object")
    changes, next_cursor, has_more = body.get("changes"), body.get("next_cursor"), body.get("has_more")
    if type(changes) is not list:
        raise MalformedPage('"changes" is not a list')
    if type(next_cursor) is not int:   # `type`, not isinstance: true and false are not cursors
        raise MalformedPage('"next_cursor" is not a whole number')
    if type(has_more) is not bool:
        raise MalformedPage('"has_more" is not true or false')
    for number, change in enumerate(changes, 1):
        # The common case in one expression: a page is a thousand of these.
        if not (type(change) is dict and type(change.get("entity")) is str and change["entity"] in _ENTITIES
                and type(change.get("id")) is str and type(change.get("version")) is int
                and type(change.get("seq")) is int and type(change.get("deleted")) is bool
                and (change.get("data") is None or type(change["data"]) is dict)):
            raise MalformedPage(f"change {number} of the page: {_fault(change)}")
    return changes, next_cursor, has_more


def _fault(change: Any) -> str:
    """What is wrong with a change that failed the check, in words."""
    if type(change) is not dict:
        return "it is not a JSON object"
    entity = change.get("entity")
    if type(entity) is not str:
        return '"entity" is missing or not a string'
    if entity not in _ENTITIES:
        return f"the entity {entity[:40]!r} is not one this version of Fieldapp knows"
    if type(change.get("id")) is not str:
        return '"id" is missing or not a string'
    for key in ("version", "seq"):
        if type(change.get(key)) is not int:
            return f'"{key}" is missing or not a whole number'
    if type(change.get("deleted")) is not bool:
        return '"deleted" is missing or not true or false'
    return '"data" is neither an object nor null'
