"""Mailboxes (through Mailutils URLs)."""
from .registry import planned

D = "mailbox"

planned("number mailbox_open(string url; string mode, string perms)", domain=D,
        doc="Open the mailbox URL (MODE: r, w, rw, a...; PERMS for creation).")
planned("number mailbox_messages_count(number nmbx)", domain=D,
        doc="Number of messages in the mailbox.")
planned("number mailbox_get_message(number nmbx, number n)", domain=D,
        doc="Descriptor of the Nth message (1-based).")
planned("void mailbox_close(number nmbx)", domain=D, doc="Close the mailbox.")
planned("void mailbox_append_message(number nmbx, number nmsg)", domain=D,
        doc="Append message NMSG to the mailbox.")
