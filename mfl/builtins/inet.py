"""Internet address manipulation."""
from .registry import planned

D = "inet"

planned("number ntohl(number n)", domain=D, doc="32-bit network to host byte order.")
planned("number htonl(number n)", domain=D, doc="32-bit host to network byte order.")
planned("number ntohs(number n)", domain=D, doc="16-bit network to host byte order.")
planned("number htons(number n)", domain=D, doc="16-bit host to network byte order.")
planned("number inet_aton(string s)", domain=D,
        doc="Dotted-quad IPv4 address to a number (network order).")
planned("string inet_ntoa(number n)", domain=D,
        doc="Number (network order) to a dotted-quad IPv4 address.")
planned("number len_to_netmask(number n)", domain=D, doc="Netmask with N leading one bits.")
planned("number netmask_to_len(number mask)", domain=D, doc="Number of leading one bits in MASK.")
