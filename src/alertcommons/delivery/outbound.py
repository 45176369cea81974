"""Where the hub may connect: public addresses, and the networks an operator allows.

Receivers choose the hosts the hub connects to (webhook URLs, SMTP servers, MQTT brokers), so
without a rule anyone with a receiver token could make the hub talk to its own loopback
services, the cloud metadata address or the private network behind it. The rule:

* private, loopback, link-local, unspecified, multicast and reserved addresses are refused,
  IPv4 and IPv6 alike; an IPv6 address that embeds an IPv4 one (``::ffff:127.0.0.1``,
  6to4, NAT64) is judged by the IPv4 address it carries;
* ``ALERTCOMMONS_OUTBOUND_ALLOW`` opens networks an operator names (``127.0.0.0/8,::1/128``);
* the check is made when connecting, on the address the name resolved to, and the connection
  goes to *that* address, so a name that resolves to a public address at registration and to
  127.0.0.1 later (DNS rebinding) gains nothing. Registration refuses what is refused
  whatever DNS says: literal addresses in any spelling (``2130706433``, ``0x7f.1``) and the
  ``localhost`` names.

Failures are reported to receivers in one generic sentence (:data:`UNDELIVERABLE`): "refused",
"timed out" or a server's banner would let a receiver map ports and services of hosts that
are not theirs. The details go to the hub's log, for its operator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from alertcommons.errors import AlertCommonsError

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNDELIVERABLE = "could not deliver to the endpoint"
LOOPBACK = "127.0.0.0/8,::1/128"  # what ``serve --demo`` and the tests allow

# IPv4 in the spellings inet_aton accepts: 1 to 4 parts, decimal, octal (leading 0) or hex.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(AlertCommonsError):
    """The hub will not connect there; the message is safe to show the receiver."""


def parse_allow(text: str) -> tuple[Network, ...]:
    """``ALERTCOMMONS_OUTBOUND_ALLOW``: comma-separated networks; a bare address is one host."""
    networks = []
    for part in text.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(networks)


def literal_address(host: str) -> Address | None:
    """The address a host string spells, in any form a resolver would take; else None."""
    bare = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return ipaddress.IPv4Address("0.0.0.0")  # all digits yet no address: refuse it
    return None


@lru_cache(maxsize=4096)
def _canonical_literal(host: str) -> bool:
    """Whether ``host`` is an IP address in its one canonical spelling (no scope, no legacy
    form): what ``getaddrinfo`` would answer for it is exactly it."""
    try:
        return str(ipaddress.ip_address(host)) == host and "%" not in host
    except ValueError:
        return False


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    carried = embedded_ipv4(address)
    if carried is not None and not is_public(carried):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    )


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    allow: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, text: str) -> OutboundPolicy:
        return cls(parse_allow(text))

    def permits(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address):
            if address.scope_id:
                address = ipaddress.IPv6Address(address.compressed.split("%", 1)[0])
            # ::ffff:a.b.c.d *is* a.b.c.d on the wire: allow and refuse it as that address.
            address = address.ipv4_mapped or address
        if any(address in n for n in self.allow if n.version == address.version):
            return True
        return is_public(address)

    def refusal(self, host: str) -> str | None:
        """Why registering ``host`` is refused outright (whatever DNS says later), or None."""
        # NFKC first: IDNA maps full-width digits to ASCII ones before resolving.
        name = unicodedata.normalize("NFKC", host).strip().rstrip(".").lower()
        address = literal_address(name)
        if address is None and (name == "localhost" or name.endswith(".localhost")):
            address = ipaddress.IPv4Address("127.0.0.1")  # RFC 6761: always loopback
        if address is None or self.permits(address):
            return None
        return (
            f"'{host}' is a private, loopback, link-local or reserved address; this hub does "
            "not connect there (an operator can allow networks with ALERTCOMMONS_OUTBOUND_ALLOW)"
        )

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: the first one resolved that is permitted.

        Callers connect to this address (not the name again), so what was checked is what
        is reached.
        """
        if _canonical_literal(host):
            # an address spelled as the resolver would answer it resolves to itself: the
            # same check, without a lookup on a thread for each new connection
            return self._pick(host, [(0, 0, 0, "", (host, port))])
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            log.info("outbound: %r did not resolve: %s", host, exc)
            raise OutboundRefused(UNDELIVERABLE) from None
        return self._pick(host, found)

    def resolve_blocking(self, host: str, port: int) -> str:
        """:meth:`resolve` for code already on a worker thread."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            log.info("outbound: %r did not resolve: %s", host, exc)
            raise OutboundRefused(UNDELIVERABLE) from None
        return self._pick(host, found)

    def _pick(self, host: str, found: list[Any]) -> str:
        for _family, _type, _proto, _name, sockaddr in found:
            text = str(sockaddr[0])
            if self.permits(ipaddress.ip_address(text)):
                return text
        log.warning("outbound: refused %r (resolves to %s)", host, [f[4][0] for f in found])
        raise OutboundRefused(UNDELIVERABLE)
