"""Character class tests: true if every character of the string is in the class."""
from .registry import planned, variable

D = "ctype"

for _cls, _what in (("alnum", "alphanumeric"), ("alpha", "alphabetic"), ("ascii", "7-bit ASCII"),
                    ("blank", "a space or tab"), ("cntrl", "a control character"),
                    ("digit", "a decimal digit"), ("graph", "printable, not a space"),
                    ("lower", "lower case"), ("print", "printable"),
                    ("punct", "punctuation"), ("space", "whitespace"),
                    ("upper", "upper case"), ("xdigit", "a hexadecimal digit")):
    planned(f"boolean is{_cls}(string str)", domain=D,
            doc=f"True if every character of STR is {_what}.")

variable("number ctype_mismatch", domain=D, status="planned", default=0,
         doc="Offset of the first character that failed the last failing is* test.")
