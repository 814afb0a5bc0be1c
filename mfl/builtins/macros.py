"""Sendmail macro access."""
from .registry import planned

D = "macros"

planned("string getmacro(string macro)", domain=D,
        doc="Value of the Sendmail macro MACRO (e_macroundef if it is not defined).")
planned("boolean macro_defined(string name)", domain=D,
        doc="True if the Sendmail macro NAME is defined.")
