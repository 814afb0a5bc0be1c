"""Per-connection and per-call run-time state, kept apart from the compiled program.

A compiled program (``mfl.interp.program.Program``) is shared by every
connection; a ``Runtime`` holds what one SMTP connection owns: global
variables, Sendmail macros, the last regex match, the output channel, the
message-modification queue.  A ``Frame`` is one function or handler call.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Mod:
    """One queued message modification (the MMQ); applied in order at eom.

    kind            name          value                 index
    add_header      header name   value                 1
    insert_header   header name   value                 position
    replace_header  header name   value                 instance (1-based)
    delete_header   header name   None ("" for delete)  instance (1-based)
    add_rcpt        address       None                  0
    delete_rcpt     address       None                  0
    set_from        address       ESMTP args or None    0
    replace_body    "BODY"        new body (str)        0
    replace_body_fd "BODYFD"      a Blob with the body  descriptor
    quarantine      reason        None                  0

    ``mfl.message.edit.apply`` performs a queue on a message."""
    kind: str
    name: str = ""
    value: object = ""      # None: no value (header_delete)
    index: int = 1

    _FORMAT = {"add_header": "ADD HEADER", "insert_header": "INSERT HEADER",
               "replace_header": "REPLACE HEADER", "delete_header": "DELETE HEADER",
               "add_rcpt": "ADD RECIPIENT", "delete_rcpt": "DELETE RECIPIENT",
               "set_from": "SET FROM", "replace_body": "REPLACE BODY",
               "replace_body_fd": "REPLACE BODY FROM FILE", "quarantine": "QUARANTINE"}

    def describe(self) -> str:
        """As mailfromd's test mode prints a queued change."""
        what = self._FORMAT.get(self.kind, self.kind.upper().replace("_", " "))
        value = "(null)" if self.value is None or self.kind == "replace_body_fd" else self.value
        return f"{what} {self.name}: {value} {self.index}"


class ActionSignal(Exception):
    """An action statement ended the handler."""

    def __init__(self, kind: str, code: str | None = None, xcode: str | None = None,
                 text: str | None = None):
        super().__init__(kind)
        self.kind, self.code, self.xcode, self.text = kind, code, xcode, text


class Runtime:
    """Everything one connection (or one --test/--run invocation) owns."""

    def __init__(self, program, *, macros=None, out=None, err=None, budget: int = 0):
        self.program = program
        self.globals: list = list(program.global_defaults)
        self.macros: dict = dict(macros or {})
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.match: list | None = None        # groups of the last `matches`
        self.mmq: list[Mod] = []
        self.reply: tuple | None = None
        self.depth = 0
        self.max_depth = 2000
        self.steps = 0                         # loop iterations and calls so far
        # loop iterations allowed per handler call: an endless loop ends here with a
        # run-time error (tempfail) instead of hanging the mail server
        self.step_limit = int(os.environ.get("MFL_STEP_LIMIT", "10000000"))
        self.budget = budget                   # instructions left (0: unlimited)
        self.extra: dict = {}                  # per-domain state of built-ins
        self.calls: list = []                  # (callee, call position) of active calls
        self.last_return = 0                   # last number a function returned (--run exit)
        self.global_catch: list = []           # catches installed by `begin'
        self.stack_trace_on_error = False
        self.trace_actions = None                # --trace: a stream, else off
        self.mmq_trace = None                  # test mode: print each queued change here
        # The message being filtered, as an mfl.message.Message: set by the host
        # (mfl.interp.session, the milter host) once the header is complete;
        # current_message() and current_header*() read it.  None: no message.
        self.message = None

    def queue(self, mod: Mod) -> None:
        """Queue a message modification (applied at the end of eom)."""
        self.mmq.append(mod)
        if self.mmq_trace is not None:
            self.mmq_trace.write(mod.describe() + "\n")

    def purge_mods(self) -> None:
        self.mmq.clear()
        if self.mmq_trace is not None:
            self.mmq_trace.write("clearing msgmod list\n")

    def set_builtin_var(self, name: str, value) -> None:
        """Set the built-in variable NAME (e.g. ``dkim_explanation``) from
        Python.  The compiler gives a built-in variable a global slot only
        when the program refers to it; with no slot nothing can read it, so
        nothing is stored."""
        slot = self.program.global_names.get(f":builtin:{name}")
        if slot is not None:
            self.globals[slot] = value

    def get_builtin_var(self, name: str, default=None):
        """The value of the built-in variable NAME, or DEFAULT when the
        program never refers to it (its declared default then applies)."""
        slot = self.program.global_names.get(f":builtin:{name}")
        return self.globals[slot] if slot is not None else default

    def echo(self, text: str) -> None:
        self.out.write(text + "\n")

    def warning(self, where: str, text: str) -> None:
        self.err.write(f"{self.program.progname}: RUNTIME WARNING near {where}: {text}\n")

    def print_trace(self, frames) -> None:
        """mailfromd's stack trace: innermost first, one line per call."""
        p = self.program.progname
        self.err.write(f"{p}: stack trace:\n")
        for name, pos in reversed(frames):
            where = f"{pos[0]}:{pos[1]}" if pos else "?"
            self.err.write(f"{p}: 00000000: {where}: {name}\n")
        self.err.write(f"{p}: stack trace finishes\n")

    def reset_message(self) -> None:
        """The transaction was aborted (SMTP RSET, milter abort): non-precious
        globals return to their defaults, and a new message starts."""
        for i in self.program.nonprecious:
            self.globals[i] = self.program.global_defaults[i]
        self.new_message()

    def new_message(self) -> None:
        """A new message (MAIL FROM): no queued changes, no current message.
        Global variables keep their values (mailfromd clears them on abort only)."""
        self.mmq.clear()
        self.reply = None
        self.message = None
        self.extra.pop("current_message", None)


@dataclass(slots=True)
class Frame:
    locals: list
    args: list = field(default_factory=list)       # $1.. of a handler; parameters of a function
    nargs: int = 0                                  # $#
    varargs: list = field(default_factory=list)     # $(n)
    catch: tuple | None = None                      # (code, message) inside a catch body
    rt: object = None                               # the Runtime
