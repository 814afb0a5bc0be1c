"""Envelope modification, quarantine and progress: milter actions."""
from .registry import planned, variable

D = "envelope"

planned("void set_from(string email; string args)", domain=D,
        doc="Change the envelope sender (ESMTP ARGS optional).")
planned("void rcpt_add(string address)", domain=D, doc="Add an envelope recipient.")
planned("void rcpt_delete(string address)", domain=D, doc="Remove an envelope recipient.")
planned("void quarantine(string text)", domain=D,
        doc="Put the message in the MTA's quarantine queue, with reason TEXT.")
planned("void progress()", domain=D, handlers=("eom",),
        doc="Tell the MTA the filter is still working (resets its timeout).")

variable("number rcpt_count", domain=D, status="planned", default=0,
         doc="Number of RCPT TO commands seen so far in this message.")
