"""Header built-ins: header modification (queued), RFC 2047 coding, current headers."""
from .registry import planned

D = "headers"
_HDR = ("eoh", "body", "eom")

planned("void header_add(string name, string value; number idx)", domain=D,
        doc="Add header NAME: VALUE (at position IDX if given).")
planned("void header_insert(string name, string value, number idx)", domain=D,
        doc="Insert header NAME: VALUE at position IDX.")
planned("void header_delete(string name; number index)", domain=D,
        doc="Delete header NAME (its INDEXth occurrence if given).")
planned("void header_replace(string name, string value; number index)", domain=D,
        doc="Replace the value of header NAME (its INDEXth occurrence if given).")
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
