"""Message objects: the current message, parts, headers and body lines, bursting."""
from .registry import planned, variable

D = "messages"

planned("number current_message()", domain=D, handlers=("eom",),
        doc="Descriptor of the message being filtered.")
planned("number message_size(number nmsg)", domain=D, doc="Size of the message in bytes.")
planned("number message_lines(number nmsg)", domain=D, doc="Number of lines in the message.")
planned("boolean message_body_is_empty(number nmsg)", domain=D,
        doc="True if the message body is empty or whitespace only.")
planned("void message_close(number nmsg)", domain=D, doc="Release the message descriptor.")
planned("string message_read_line(number nmsg)", domain=D,
        doc="Next line of the whole message (e_eof at the end).")
planned("void message_rewind(number nmsg)", domain=D,
        doc="Restart message_read_line from the beginning.")
planned("number message_from_stream(number fd; string filter_chain)", domain=D,
        doc="Create a message from the contents of FD (optionally filtered).")
planned("void message_to_stream(number fd, number nmsg; string filter_chain)", domain=D,
        doc="Write the message to FD (optionally filtered).")
planned("number message_header_size(number nmsg)", domain=D, doc="Size of the header in bytes.")
planned("number message_header_lines(number nmsg)", domain=D,
        doc="Number of lines in the header.")
planned("number message_header_count(number nmsg; string name)", domain=D,
        doc="Number of headers (named NAME, if given).")
planned("string message_find_header(number nmsg, string name; number idx)", domain=D,
        doc="Value of the (IDXth) header NAME (e_not_found if absent).")
planned("string message_nth_header_name(number nmsg, number n)", domain=D,
        doc="Name of the Nth header.")
planned("string message_nth_header_value(number nmsg, number n)", domain=D,
        doc="Value of the Nth header.")
planned("boolean message_has_header(number nmsg, string name; number idx)", domain=D,
        doc="True if the message has the (IDXth) header NAME.")
planned("number message_body_size(number nmsg)", domain=D, doc="Size of the body in bytes.")
planned("number message_body_lines(number nmsg)", domain=D, doc="Number of body lines.")
planned("void message_body_rewind(number nmsg)", domain=D,
        doc="Restart message_read_body_line from the beginning.")
planned("string message_read_body_line(number nmsg)", domain=D,
        doc="Next line of the body (e_eof at the end).")
planned("void message_body_to_stream(number fd, number nmsg; string filter_pipe)", domain=D,
        doc="Write the body to FD (optionally filtered).")
planned("boolean message_is_multipart(number nmsg)", domain=D,
        doc="True if the message is a MIME multipart message.")
planned("number message_count_parts(number nmsg)", domain=D,
        doc="Number of MIME parts.")
planned("number message_get_part(number nmsg, number n)", domain=D,
        doc="Descriptor of the Nth MIME part (1-based).")
planned("string message_content_type(number nmsg)", domain=D,
        doc="Content type of the message (type/subtype).")
planned("number message_burst(number nmsg; number flags)", domain=D,
        doc="Split an RFC 934 digest into a multipart message; returns its descriptor.")

variable("number burst_eb_min_length", domain=D, status="planned", default=2,
         doc="Minimal number of dashes starting an RFC 934 encapsulation boundary.")
