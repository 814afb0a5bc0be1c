"""Internet address manipulation.

Measured on mailfromd 8.15 (x86-64): numbers are taken as unsigned 32-bit
(16-bit for the short variants) values and results are never negative
(``inet_aton("255.255.255.255")`` is 4294967295, not -1 as the manual says);
``inet_aton`` accepts what the C library's inet_aton(3) accepts ("1.2",
"0x7f.1", trailing white space and anything after it); ``netmask_to_len``
counts the bits from the lowest set one up (255.0.255.0 gives 24);
``len_to_netmask`` raises e_range for lengths above 32 (the length printed
as an unsigned long).
"""
from __future__ import annotations

import socket
import struct

from ..runtime.errors import MFLException
from .registry import builtin

D = "inet"

_M32 = 0xFFFFFFFF


def _swap32(n: int) -> int:
    return struct.unpack("<I", struct.pack(">I", n & _M32))[0]


def _swap16(n: int) -> int:
    return struct.unpack("<H", struct.pack(">H", n & 0xFFFF))[0]


@builtin("number ntohl(number n)", domain=D)
def ntohl(rt, n):
    """32-bit network to host byte order."""
    return _swap32(n)


@builtin("number htonl(number n)", domain=D)
def htonl(rt, n):
    """32-bit host to network byte order."""
    return _swap32(n)


@builtin("number ntohs(number n)", domain=D)
def ntohs(rt, n):
    """16-bit network to host byte order."""
    return _swap16(n)


@builtin("number htons(number n)", domain=D)
def htons(rt, n):
    """16-bit host to network byte order."""
    return _swap16(n)


def aton(s: str) -> int | None:
    """inet_aton(3) of S as a host-order number, or None."""
    try:
        return struct.unpack(">I", socket.inet_aton(s))[0]
    except (OSError, UnicodeError, ValueError, TypeError):
        return None


@builtin("number inet_aton(string s)", domain=D)
def inet_aton(rt, s):
    """Dotted-quad IPv4 address to a number (host order)."""
    n = aton(s)
    if n is None:
        raise MFLException("e_invip", f"inet_aton: invalid IP address ({s})")
    return n


@builtin("string inet_ntoa(number n)", domain=D)
def inet_ntoa(rt, n):
    """Number (host order) to a dotted-quad IPv4 address."""
    return socket.inet_ntoa(struct.pack(">I", n & _M32))


@builtin("number len_to_netmask(number n)", domain=D)
def len_to_netmask(rt, n):
    """Netmask with N leading one bits."""
    u = n & 0xFFFFFFFFFFFFFFFF
    if u > 32:
        raise MFLException("e_range", f"len_to_netmask: invalid netmask: {u}")
    return (_M32 << (32 - u)) & _M32


@builtin("number netmask_to_len(number mask)", domain=D)
def netmask_to_len(rt, mask):
    """Number of bits of MASK from its lowest set bit up (0 for 0)."""
    m = mask & _M32
    if m == 0:
        return 0
    n = 32
    while not m & 1:
        m >>= 1
        n -= 1
    return n
