"""Debugging and introspection."""
from .registry import planned

D = "debug"

planned("void debug(string spec)", domain=D, doc="Set debugging levels from SPEC.")
planned("number debug_level(; string srcname)", domain=D,
        doc="Debugging level (of module SRCNAME).")
planned("string debug_spec(; string catnames, boolean showunset)", domain=D,
        doc="Current debugging specification.")
planned("void program_trace(string module)", domain=D, doc="Enable tracing of MODULE.")
planned("void cancel_program_trace(string module)", domain=D, doc="Disable tracing of MODULE.")
planned("void stack_trace()", domain=D, doc="Log a stack trace.")
planned("void _expand_dataseg(number n)", domain=D, doc="Grow the data segment by N words.")
planned("number _reg(number r)", domain=D, doc="Value of virtual machine register R.")
planned("number _stack_free()", domain=D, doc="Free stack words.")
planned("number _heap_reserve(number n)", domain=D, doc="Use up N heap words; address of the first.")
planned("void _wd(; number n)", domain=D, doc="Loop N seconds (default: forever) so a debugger can attach.")
planned("void mailutils_set_debug_level(string spec)", domain=D,
        doc="Not in the 8.15 manual: set the Mailutils debug level from SPEC.")
