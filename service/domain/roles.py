"""API key roles (admin, channel:<name>, location:<id>, erp) and the one permission check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.errors import Forbidden, NotFound

_ROLE = re.compile(r"^(admin|erp|channel:[a-z0-9][a-z0-9_-]{0,62}|location:[A-Za-z0-9._:-]{1,64})$")


class UnknownRole(ValueError):
    """A role string that is none of the known forms."""


@dataclass(frozen=True)
class Role:
    """What a key may do: everything (admin), one channel's business, one location's, or
    read what the ERP receives (erp: settlement records, no channel and no location)."""

    kind: str
    scope: str | None = None

    @classmethod
    def parse(cls, text: str) -> Role:
        """Parse 'admin', 'channel:web', 'location:STORE-1' or 'erp'."""
        if not _ROLE.match(text or ""):
            raise UnknownRole(
                f"unknown role {text!r}: expected admin, channel:<name>, location:<id> "
                "or erp"
            )
        kind, _, scope = text.partition(":")
        return cls(kind, scope or None)

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    def may_use_channel(self, channel: str) -> bool:
        """Admins act for any channel; a channel key only for its own."""
        return self.is_admin or (self.kind == "channel" and self.scope == channel)

    def may_use_location(self, location_id: str) -> bool:
        """Admins act for any location; a location key only for its own."""
        return self.is_admin or (self.kind == "location" and self.scope == location_id)

    def __str__(self) -> str:
        return self.kind if self.scope is None else f"{self.kind}:{self.scope}"


def authorize(role: Role, *, channel: str | None = None, location: str | None = None,
              action: str = "act for", unseen: str | None = None) -> None:
    """The one permission check: may this key act for this channel and/or location?

    Refused with 403 naming what was asked; or, with `unseen`, with 404 and that detail, for
    something the key may not even know exists (another channel's order, another location's
    fulfilment).
    """
    if channel is not None and not role.may_use_channel(channel):
        denied = f"channel {channel!r}"
    elif location is not None and not role.may_use_location(location):
        denied = f"location {location!r}"
    else:
        return
    if unseen is not None:
        raise NotFound(unseen)
    raise Forbidden(f"A {role} key may not {action} {denied}.")
