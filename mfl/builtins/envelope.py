"""Envelope modification, quarantine and progress: milter actions (queued in the MMQ)."""
from ..runtime.state import Mod
from .registry import builtin, variable

D = "envelope"


@builtin("void set_from(string email; string args)", domain=D)
def set_from(rt, email, args=None):
    """Change the envelope sender (ESMTP ARGS optional)."""
    rt.queue(Mod("set_from", email, args, 0))


@builtin("void rcpt_add(string address)", domain=D)
def rcpt_add(rt, address):
    """Add an envelope recipient."""
    rt.queue(Mod("add_rcpt", address, None, 0))


@builtin("void rcpt_delete(string address)", domain=D)
def rcpt_delete(rt, address):
    """Remove an envelope recipient."""
    rt.queue(Mod("delete_rcpt", address, None, 0))


@builtin("void quarantine(string text)", domain=D)
def quarantine(rt, text):
    """Put the message in the MTA's quarantine queue, with reason TEXT."""
    rt.queue(Mod("quarantine", text, None, 0))


@builtin("void progress()", domain=D, handlers=("eom",))
def progress(rt):
    """Tell the MTA the filter is still working (resets its timeout).

    The host may put a callable in ``rt.extra["progress"]``; without one
    (test mode, the session driver) this does nothing."""
    cb = rt.extra.get("progress")
    if cb is not None:
        cb()


variable("number rcpt_count", domain=D, default=0,
         doc="Number of RCPT TO commands seen so far in this message.")
