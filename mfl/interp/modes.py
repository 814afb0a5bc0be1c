"""The test and run modes of ``mfld`` (mailfromd's --test and --run) and ``mfl test``/``mfl run``."""
from __future__ import annotations

import sys

from ..runtime.errors import MFLException, RuntimeFault
from ..runtime.state import Runtime
from .compiler import compile_unit
from .run import call_function, report_runtime_error, safe_call_handler

_MOD_FORMAT = {
    "add_header": "ADD HEADER {n}: {v} {i}",
    "insert_header": "INSERT HEADER {n}: {v} {i}",
    "replace_header": "REPLACE HEADER {n}: {v} {i}",
    "delete_header": "DELETE HEADER {n}: {v} {i}",
}


def print_mods(rt: Runtime, out) -> None:
    for m in rt.mmq:
        fmt = _MOD_FORMAT.get(m.kind)
        if fmt:
            out.write(fmt.format(n=m.name, v=m.value, i=m.index) + "\n")
        else:
            out.write(f"{m.kind.upper().replace('_', ' ')} {m.name} {m.value}\n")


def test_mode(unit, handler: str, argv: list[str], *, progname: str = "mfld",
              out=None, err=None, stack_trace: bool = False, variables=(),
              echo=None, trace: bool = False) -> int:
    """mailfromd --test: run HANDLER once (with startup/begin/end/shutdown around it)."""
    out = out or sys.stdout
    err = err or sys.stderr
    from ..check.symbols import HANDLER_ARGS
    if handler not in HANDLER_ARGS or handler == "action":
        err.write(f"{progname}: unknown smtp state tag: {handler}\n")
        return 64
    macros = {}
    args = []
    for a in argv:
        if "=" in a:
            k, v = a.split("=", 1)
            macros[k] = v
        else:
            args.append(a)
    # mailfromd passes the handler's arguments as macros named 1, 2, 3, 4;
    # missing ones read as "" (or 0 for a number)
    types = HANDLER_ARGS.get(handler, ())
    given = {int(n): macros.pop(n) for n in ("1", "2", "3", "4") if n in macros}
    for i, t in enumerate(types):
        v = given.get(i + 1, args[i] if i < len(args) else None)
        if v is None:
            v = 0 if t == "number" else ""
        elif t == "number":
            try:
                from ..runtime.values import to_num
                v = to_num(v)
            except MFLException:
                v = 0
        if i < len(args):
            args[i] = v
        else:
            args.append(v)
    prog = compile_unit(unit, progname)
    rt = Runtime(prog, macros=macros, out=echo or err, err=err)
    rt.mmq_trace = out
    rt.stack_trace_on_error = stack_trace
    rt.trace_actions = err if trace else None
    set_variables(rt, variables)
    for stage in ("startup", "begin"):
        act, ok = safe_call_handler(rt, stage)
    act, ok = safe_call_handler(rt, handler, args)
    if act is not None and act.kind == "accept" and rt.mmq:
        pos = getattr(act, "pos", None)
        rt.warning(f"{pos[0]}:{pos[1]}" if pos else prog.file,
                   "`accept' causes previous message modification commands to be ignored; "
                   "call mmq_purge() prior to `accept', to suppress this warning")
    kind = act.kind if act is not None else "continue"
    if act is not None and (act.code or act.xcode or act.text):
        code = act.code or ("550" if kind == "reject" else "451")
        xcode = f"{act.xcode} " if act.xcode else ""
        out.write(f"SET REPLY {code} {xcode}{act.text or ''}\n")
    out.write(f"State {handler}: {kind}\n")
    for stage in ("end", "shutdown"):
        safe_call_handler(rt, stage)
    return 0


def set_variables(rt: Runtime, variables) -> None:
    """-v NAME=VALUE: assign global variables before the program starts."""
    from ..runtime.values import to_num
    prog = rt.program
    for name, value in variables:
        slot = prog.global_names.get(f":{name}")
        if slot is None:
            where = _end_of_file(prog.file)
            rt.err.write(f"{prog.progname}: {where}<command line>: warning: no such variable: {name}\n")
            continue
        init = prog.initialized.get(f":{name}")
        if init is not None:
            rt.err.write(f"{prog.progname}: <command line>:1: warning: variable `{name}' already initialized\n")
            rt.err.write(f"{prog.progname}: {_span(init)}: warning: this is the location of the previous initialization\n")
        cur = rt.program.global_defaults[slot]
        try:
            rt.globals[slot] = to_num(value) if isinstance(cur, int) else value
        except MFLException:
            rt.globals[slot] = 0


def _span(pos) -> str:
    f, l, c, el, ec = pos
    return f"{f}:{l}.{c}-{ec}" if el == l and ec > c else f"{f}:{l}.{c}"


def _end_of_file(path: str) -> str:
    """The position of the last character of the script (mailfromd reports
    command-line variable problems there)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().rstrip()
    except OSError:
        return ""
    line = text.count("\n") + 1
    col = len(text) - text.rfind("\n") - 1
    return f"{path}:{line}.{col}: "


def run_mode(unit, func: str, argv: list[str], *, progname: str = "mfld",
             out=None, err=None, stack_trace: bool = False, variables=(), echo=None,
             trace: bool = False) -> int:
    """mailfromd --run: call FUNC (main) with the arguments; its value is the exit status."""
    err = err or sys.stderr
    prog = compile_unit(unit, progname)
    if func not in prog.funcs:
        err.write(f"{progname}: error: function {func} is not defined\n")
        return 78
    fn = prog.funcs[func]
    if func == "main":
        if not fn.variadic:
            err.write(f"{progname}: error: function main must take variable number of arguments\n")
            return 78
        if fn.returns != "number":
            err.write(f"{progname}: error: function main must return number\n")
            return 78
    rt = Runtime(prog, out=echo or err, err=err)
    rt.stack_trace_on_error = stack_trace
    rt.trace_actions = err if trace else None
    set_variables(rt, variables)
    safe_call_handler(rt, "startup")
    safe_call_handler(rt, "begin")
    try:
        r = call_function(rt, func, argv)
    except (MFLException, RuntimeFault, RecursionError) as e:
        report_runtime_error(rt, e)
        return rt.last_return & 0xFF
    except Exception as e:                      # a bug in mfl
        report_runtime_error(rt, RuntimeFault(f"internal error: {type(e).__name__}: {e}"))
        return 70
    safe_call_handler(rt, "end")
    try:
        return int(r) & 0xFF if isinstance(r, int) else 0
    except (TypeError, ValueError):
        return 0
