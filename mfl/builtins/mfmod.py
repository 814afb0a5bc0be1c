"""Dynamically loaded modules (mfmod)."""
from .registry import planned

D = "mfmod"

planned("number dlopen(string filename)", domain=D,
        doc="Load the shared library FILENAME; returns a handle.")
planned("number dlcall(number dlh, string symbol, string types, ...)", domain=D,
        doc="Call SYMBOL from library DLH; TYPES gives argument/return types "
            "(the manual says 'any'; 8.15 compiles the result as a number).")
