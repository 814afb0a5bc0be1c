"""Header built-ins: header modification (queued), RFC 2047 coding, current headers."""
from ..runtime.state import Mod
from .registry import builtin, planned

D = "headers"
_HDR = ("eoh", "body", "eom")

@builtin("void header_add(string name, string value; number idx)", domain=D)
def header_add(rt, name, value, idx=None):
    """Add header NAME: VALUE (inserted at position IDX when given)."""
    if idx is None:
        rt.queue(Mod("add_header", name, value, 1))
    else:
        rt.queue(Mod("insert_header", name, value, idx))


@builtin("void header_insert(string name, string value, number idx)", domain=D)
def header_insert(rt, name, value, idx):
    """Insert header NAME: VALUE at position IDX."""
    rt.queue(Mod("insert_header", name, value, idx))


@builtin("void header_delete(string name; number index)", domain=D)
def header_delete(rt, name, index=1):
    """Delete the INDEXth header NAME (the first by default)."""
    rt.queue(Mod("delete_header", name, None, index))


@builtin("void header_replace(string name, string value; number index)", domain=D)
def header_replace(rt, name, value, index=1):
    """Replace the value of the INDEXth header NAME (the first by default)."""
    rt.queue(Mod("replace_header", name, value, index))


planned("string message_header_encode(string text; string enc, string charset)", domain=D,
        doc="Encode TEXT as an RFC 2047 encoded word (encoding Q or B).")
planned("string message_header_decode(string text; string charset)", domain=D,
        doc="Decode RFC 2047 encoded words in TEXT, converting to CHARSET.")
planned("string unfold(string text)", domain=D, doc="Unfold a folded header value.")
planned("number current_header_count(; string name)", domain=D, handlers=_HDR,
        doc="Number of headers of the current message (named NAME, if given).")
planned("string current_header_nth_name(number n)", domain=D, handlers=_HDR,
        doc="Name of the Nth header of the current message.")
planned("string current_header_nth_value(number n)", domain=D, handlers=_HDR,
        doc="Value of the Nth header of the current message.")
planned("string current_header(string name; number n)", domain=D, handlers=_HDR,
        doc="Value of the (Nth) header NAME of the current message.")
