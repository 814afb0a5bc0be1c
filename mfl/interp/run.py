"""Running compiled programs: handlers (test mode, milter) and functions (run mode).

``call_handler`` runs one handler and returns the action it took; run-time
failures (an uncaught MFL exception, a fault such as an endless loop) are
reported the way mailfromd reports them and end in ``tempfail``, so no mail
is ever accepted by accident.
"""
from __future__ import annotations

import sys

from ..runtime.errors import MFLException, RuntimeFault
from ..runtime.state import ActionSignal, Frame, Runtime
from ..runtime.values import to_num, to_str

_RECURSION = 200_000


def _ensure_recursion_limit() -> None:
    if sys.getrecursionlimit() < _RECURSION:
        sys.setrecursionlimit(_RECURSION)


def exception_name(prog, e: MFLException) -> str:
    for name, code in prog.exceptions.items():
        if code == e.code:
            return name
    return f"#{e.code}"


def report_runtime_error(rt: Runtime, e: Exception) -> None:
    prog = rt.program
    pos = getattr(e, "pos", None)
    where = f"{pos[0]}:{pos[1]}" if pos else prog.file
    if isinstance(e, MFLException):
        text = f"uncaught exception {exception_name(prog, e)}: {e.message}"
    elif isinstance(e, RecursionError):
        text = "stack overflow (too deep recursion)"
    else:
        text = getattr(e, "message", str(e))
    rt.err.write(f"{prog.progname}: RUNTIME ERROR near {where}: {text}\n")
    if rt.stack_trace_on_error:
        rt.print_trace(list(getattr(e, "trace", None) or []) + [("(unknown)", pos)])


def call_handler(rt: Runtime, name: str, args=()) -> ActionSignal | None:
    """Run every definition of handler ``name``; return the action (None: continue)."""
    _ensure_recursion_limit()
    for h in rt.program.handler(name):
        fr = Frame(list(h.local_defaults), list(args), len(args))
        fr.rt = rt
        rt.steps = 0
        try:
            h.body(fr)
        except ActionSignal as a:
            if rt.trace_actions is not None:
                _trace(rt, a)
            return a
    return None


def _trace(rt: Runtime, a: ActionSignal) -> None:
    """--trace: each action taken, as mailfromd prints it ("FILE:LINE: reject 550 5.7.1 text")."""
    pos = getattr(a, "pos", None)
    where = f"{pos[0]}:{pos[1]}" if pos else rt.program.file
    rt.trace_actions.write(f"{where}: {a.kind} {a.code or ''} {a.xcode or ''} {a.text or ''}\n")


def _global_catch(rt: Runtime, e: MFLException):
    """A catch installed by `begin' handles exceptions of every later handler."""
    for codes, handler in rt.global_catch:
        if codes is None or e.code in codes:
            fr = Frame([None] * 64, [], 0)
            fr.rt = rt
            fr.catch = (e.code, e.message)
            try:
                handler(fr)
            except ActionSignal as a:
                return a
            return ActionSignal("continue")
    return None


def safe_call_handler(rt: Runtime, name: str, args=()) -> tuple[ActionSignal | None, bool]:
    """As call_handler, but a run-time error is reported and becomes tempfail.
    Returns (action, ok)."""
    try:
        try:
            return call_handler(rt, name, args), True
        except MFLException as e:
            got = _global_catch(rt, e) if rt.global_catch else None
            if got is None:
                raise
            return got, True
    except (MFLException, RuntimeFault, RecursionError) as e:
        report_runtime_error(rt, e)
        rt.err.write(f"{rt.program.progname}: execution of the filter program was not finished\n")
        return ActionSignal("tempfail"), False
    except Exception as e:                      # a bug in mfl: still no lost mail
        fault = RuntimeFault(f"internal error: {type(e).__name__}: {e}", getattr(e, "pos", None))
        report_runtime_error(rt, fault)
        rt.err.write(f"{rt.program.progname}: execution of the filter program was not finished\n")
        return ActionSignal("tempfail"), False


def call_function(rt: Runtime, name: str, args: list):
    _ensure_recursion_limit()
    fn = rt.program.funcs[name]
    vals = list(args)
    conv = [to_num if t == "number" else to_str for t in fn.params]
    fixed = [c(v) for c, v in zip(conv, vals)]
    fr = Frame(list(fn.local_defaults), fixed, len(vals), vals[len(fn.params):])
    fr.rt = rt
    r = fn.body(fr)
    if r is not None and r[0] == 0:
        return r[1]
    return 0 if fn.returns == "number" else ""
