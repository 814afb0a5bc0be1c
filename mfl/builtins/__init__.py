"""Built-in functions, variables, constants and exceptions, split by domain.

Importing this package fills the registry (``mfl.builtins.registry``).
"""
from importlib import import_module

from .registry import CONSTANTS, EXCEPTIONS, FUNCTIONS, VARIABLES  # noqa: F401

_DOMAINS = ("core", "strings", "ctype", "email", "macros", "io", "envelope", "headers",
            "body", "mmq", "messages", "mailbox", "callout", "inet", "dns", "geoip", "db",
            "system", "time", "sieve", "sa", "rate", "greylist", "mail", "spf", "dkim",
            "nls", "debug", "mfmod")

for _d in _DOMAINS:
    import_module(f"{__name__}.{_d}")
