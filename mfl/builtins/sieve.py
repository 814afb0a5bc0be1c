"""Sieve interface."""
from .registry import planned

D = "sieve"

planned("boolean sieve(number msg, string script; number flags, string file, number line, "
        "number col)", domain=D,
        doc="Run the Sieve SCRIPT (file or text, per FLAGS) on message MSG; false if "
            "the message was discarded.  FILE/LINE/COL give the text's location; COL "
            "is accepted by 8.15 but not in the manual.")
