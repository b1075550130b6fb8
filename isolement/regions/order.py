"""The order a crisis cell fans out to the regions: which playbook, why, by whom, for which
regions, until when; signed with the cell's Ed25519 key (isolement/journal/keys.py).

A regional agent cuts its region's network on an order: it acts only on an order signed by a
key it trusts, for a named playbook of its own, addressed to its region, and not expired.
Anything else is refused, and the refusal says why.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from isolement.journal.keys import fingerprint
from isolement.model.errors import InputError
from isolement.model.names import check_name, check_statement
from isolement.regions.names import check_region

# A playbook of the region's own directory, by name only: never a path sent over the bus.
_PLAYBOOK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class OrderRefused(ValueError):
    """An order that no region acts on; the message says why."""


@dataclass(frozen=True)
class Order:
    order_id: str
    playbook: str
    reason: str
    operator: str
    regions: tuple[str, ...]
    issued_at: str
    expires_at: str
    site: str | None = None

    @classmethod
    def new(
        cls,
        playbook: str,
        *,
        reason: str,
        operator: str,
        regions: list[str],
        valid_for: timedelta,
        site: str | None = None,
    ) -> Order:
        now = datetime.now(UTC)
        order = cls(
            order_id=uuid.uuid4().hex,
            playbook=playbook,
            reason=reason,
            operator=operator,
            regions=tuple(regions),
            issued_at=now.isoformat(timespec="seconds"),
            expires_at=(now + valid_for).isoformat(timespec="seconds"),
            site=site,
        )
        order.check()
        return order

    def check(self) -> None:
        """Every field as an agent may act on it; OrderRefused says which is not."""
        try:
            if not re.fullmatch(r"[0-9a-f]{32}", self.order_id):
                raise ValueError("order_id: not an order identifier")
            if not _PLAYBOOK.fullmatch(self.playbook):
                raise ValueError(f"playbook: {self.playbook!r} is not a playbook name")
            check_statement(self.reason)
            check_statement(self.operator)
            if not self.regions:
                raise ValueError("regions: the order names no region")
            for region in self.regions:
                check_region(region)
            if self.site is not None:
                check_name(self.site)
            datetime.fromisoformat(self.issued_at)
            datetime.fromisoformat(self.expires_at)
        except (ValueError, TypeError, InputError) as exc:
            raise OrderRefused(f"malformed order: {exc}") from None

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= datetime.fromisoformat(self.expires_at)

    def statement(self) -> bytes:
        """What the signature covers: the order as canonical JSON."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: Ed25519PrivateKey) -> bytes:
        """The message published at the hub."""
        return json.dumps(
            {
                "order": asdict(self),
                "signature": base64.b64encode(key.sign(self.statement())).decode(),
                "key": fingerprint(key.public_key()),
            },
            sort_keys=True,
        ).encode()


def read_order(message: bytes) -> tuple[Order, bytes, str]:
    """The order in a message, its signature and the signing key's fingerprint, unchecked."""
    try:
        document = json.loads(message)
        fields: dict[str, Any] = dict(document["order"])
        fields["regions"] = tuple(fields["regions"])
        order = Order(**fields)
        signature = base64.b64decode(document["signature"], validate=True)
        key = str(document["key"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise OrderRefused(f"not an order message: {exc}") from None
    order.check()
    return order, signature, key


def verify_order(message: bytes, trusted: Ed25519PublicKey) -> Order:
    """The order, if `trusted` signed it exactly as it reads; OrderRefused otherwise."""
    order, signature, _ = read_order(message)
    try:
        trusted.verify(signature, order.statement())
    except InvalidSignature:
        raise OrderRefused(
            f"order {order.order_id}: not signed by the trusted key {fingerprint(trusted)}: refused"
        ) from None
    return order
