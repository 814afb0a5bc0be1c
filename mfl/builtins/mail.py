"""Sending mail and delivery status notifications."""
from .registry import planned

D = "mail"

planned("void send_mail(string msg; string to, string from, string mailer)", domain=D,
        doc="Send the raw message text MSG.")
planned("void send_text(string text, string headers; string to, string from, string mailer)",
        domain=D, doc="Send TEXT as a message body with the given HEADERS.")
planned("void send_message(number msg; string to, string from, string mailer)", domain=D,
        doc="Send the message MSG.")
planned("void send_dsn(string to, string sender, string rcpt, string text; string headers, "
        "string from, string mailer)", domain=D, handlers=("eom",),
        doc="Send a delivery status notification about the current message.")
planned("number create_dsn(string sender, string rcpt, string text; string headers, "
        "string from)", domain=D, handlers=("eom",),
        doc="Build a DSN message about the current message; returns its descriptor "
            "(the manual says void).")
