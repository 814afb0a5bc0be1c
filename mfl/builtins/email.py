"""Email address helpers (the built-in part; email_valid is library code)."""
from .registry import planned

D = "email"

planned("number email_map(string email)", domain=D,
        doc="Bit mask describing the parts of the address EMAIL (0 if it is invalid).")
planned("string domainpart(string str)", domain=D, doc="Domain part of the address STR.")
planned("string localpart(string str)", domain=D, doc="Local part of the address STR.")
