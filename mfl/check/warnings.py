"""Lint warnings mailfromd does not give (each named, off with ``-W no-NAME``).

``run_warnings(unit, diags)`` runs after a clean check of the main file.  Each
rule is a function registered with ``@rule(NAME, DESCRIPTION)``; it reads the
main program's AST and the checker's tables through a shared ``Lint`` context
and reports through ``Lint.warn``.  Warnings are given for the main file (and
the text it includes) only, never for required library modules, although the
modules' functions are looked into when a rule follows calls.

Every rule is meant to be *certain*: it fires on code that is wrong or dead
on every run, never on idiomatic code.  ``WARNINGS`` also lists the warnings
the checker itself gives (those mailfromd gives too), so that ``-W no-NAME``
accepts every name.
"""
from __future__ import annotations

import os
from typing import Callable

from ..diagnostics import Diagnostics, Span
from ..syntax import ast as A
from .flow import EMPTY, Flow

# Warnings the checker gives (mailfromd gives them too).
WARNINGS: dict[str, str] = {
    "redeclared": "a variable redeclared with another data type",
    "shadow": "a variable and a constant (or a parameter) of the same name",
    "deprecated": "obsolete syntax (e.g. `begin do ... done' without `prog')",
    "redefined": "a constant defined twice",
    "redefined-handler": "a milter handler defined twice",
    "ignored-args": "arguments given to accept, continue or discard, which ignore them",
    "uninitialized": "a local variable read before any value was given to it",
    "missing-module": "a required file without a module declaration",
    "unnamed-parameter": "a function parameter without a name (deprecated)",
    "import-nothing": "`from MODULE import NAME' where NAME is no public symbol of MODULE",
}

_RULES: list[tuple[str, Callable]] = []


def rule(name: str, description: str):
    """Register a lint rule ``fn(lint)`` under the warning ``name``."""
    def deco(fn):
        WARNINGS[name] = description
        _RULES.append((name, fn))
        return fn
    return deco


def run_warnings(unit, diags: Diagnostics) -> None:
    if unit.program is None or unit.checker is None:
        return
    lint = Lint(unit, diags)
    for name, fn in _RULES:
        if name in diags.disabled:
            continue
        try:
            fn(lint)
        except RecursionError:          # absurdly deep code: no warnings rather than a crash
            pass


# ====================================================================== context
MILTER_ORDER = ("connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "eom")
STAGE_INDEX = {h: i for i, h in enumerate(MILTER_ORDER)}


class Lint:
    """What the rules share: the main program, its checker, the call graph."""

    def __init__(self, unit, diags: Diagnostics):
        self.unit = unit
        self.d = diags
        self.prog: A.Program = unit.program
        self.chk = unit.checker
        self.file = unit.file
        self.is_module = any(isinstance(i, A.ModuleDecl) for i in self.prog.items)
        self.handlers = [i for i in self.prog.items if isinstance(i, A.Handler)]
        self.funcs = [i for i in self.prog.items if isinstance(i, A.FuncDef)]
        # Every user function, of the main file and of the loaded modules:
        # FuncSym identity -> (FuncDef, the checker that resolves its calls).
        self.defs: dict[int, tuple[A.FuncDef, object]] = {}
        self._bind(self.prog, self.chk)
        for prog, chk in getattr(unit, "modules", {}).values():
            if prog is not None and chk is not None:
                self._bind(prog, chk)
        self._seen: set = set()

    def _bind(self, prog, chk) -> None:
        fdefs = [i for i in prog.items if isinstance(i, A.FuncDef)]
        syms = getattr(chk, "user_funcs", [])
        if len(fdefs) == len(syms):
            for fd, sym in zip(fdefs, syms):
                self.defs[id(sym)] = (fd, chk)

    def warn(self, pos, code: str, msg: str) -> None:
        key = (code, pos, msg)
        if key in self._seen:
            return
        self._seen.add(key)
        if pos is None:
            sp = Span(self.file, 0, 0, 0, 0)
        else:
            f, l, c, el, ec = pos
            sp = Span(f, l, c, el, ec)
        self.d.warning(sp, code, msg)

    def in_main_file(self, pos) -> bool:
        return pos is not None and pos[0] == self.file

    # --- calls
    def callee(self, call: A.Call, chk=None):
        """The FuncDef a call reaches (user functions only), with its checker."""
        sym = (chk or self.chk).funcs.get(call.name)
        if sym is None or getattr(sym, "builtin", None) is not None:
            return None
        return self.defs.get(id(sym))

    def calls_in(self, node):
        for n in A.walk(node) if isinstance(node, A.Node) else _walk_all(node):
            if isinstance(n, A.Call):
                yield n

    def reachable(self, body, chk=None) -> list[tuple[A.FuncDef, object, A.Call]]:
        """User functions reachable from ``body``: (FuncDef, checker, the call in body)."""
        out = []
        seen: set[int] = set()
        stack = [(c, chk or self.chk, c) for c in self.calls_in(body)]
        while stack:
            call, ck, origin = stack.pop(0)
            got = self.callee(call, ck)
            if got is None or id(got[0]) in seen:
                continue
            seen.add(id(got[0]))
            out.append((got[0], got[1], origin))
            stack.extend((c, got[1], origin) for c in self.calls_in(got[0].body))
        return out

    # --- exceptions
    def const_value(self, name: str):
        c = self.chk.consts.get(name)
        return None if c is None else c.value

    def exception_code(self, e):
        """The numeric code an exception reference in a catch list stands for."""
        if isinstance(e, A.Num):
            return e.value
        if isinstance(e, A.Var):
            v = self.const_value(e.name)
            return v if isinstance(v, int) else None
        return None

    def is_exception(self, e, name: str) -> bool:
        want = self.const_value(name)
        if want is None:
            return isinstance(e, A.Var) and e.name == name
        return self.exception_code(e) == want

    def global_catch(self, name: str) -> bool:
        """A standalone ``catch`` in ``prog begin`` handling ``name`` (or ``*``)."""
        for h in self.handlers:
            if h.name != "begin":
                continue
            for st in h.body:
                if isinstance(st, A.Catch) and (st.exceptions is None or any(
                        self.is_exception(e, name) for e in st.exceptions)):
                    return True
        return False


def _walk_all(items):
    for x in items:
        if isinstance(x, A.Node):
            yield from A.walk(x)
        elif isinstance(x, tuple):
            yield from _walk_all(x)


def _line(pos) -> str:
    return str(pos[1]) if pos else "?"


# ====================================================================== unused
@rule("unused-variable", "a local variable, or a global one of the main script, that is never read")
def unused_variable(lint: Lint) -> None:
    chk = lint.chk
    reads = getattr(chk, "var_reads", set())
    for v in chk.user_vars:
        if v.kind != "global" or v.precious or id(v) in reads:
            continue
        if lint.is_module and v.public:
            continue                     # part of the module's interface
        if not lint.in_main_file(v.pos):
            continue
        lint.warn(v.pos, "unused-variable",
                  f"global variable `{v.name}' is never used (its value is never read)")
    for node, sc in getattr(chk, "scopes", []):
        assigned = {s.name for s in A.walk(node) if isinstance(s, A.Set)}
        for v in sc.vars.values():
            if v.kind != "local" or id(v) in reads or not lint.in_main_file(v.pos):
                continue
            if v.name.startswith("_"):
                continue
            what = "is assigned but its value is never used" if v.name in assigned or _has_init(
                node, v) else "is declared but never used"
            lint.warn(v.pos, "unused-variable", f"local variable `{v.name}' {what}")


def _has_init(node, v) -> bool:
    for s in A.walk(node):
        if isinstance(s, A.VarDecl) and s.name == v.name and s.init is not None:
            return True
    return False


@rule("unused-parameter", "a function parameter the function never uses")
def unused_parameter(lint: Lint) -> None:
    chk = lint.chk
    reads = getattr(chk, "var_reads", set())
    for node, sc in getattr(chk, "scopes", []):
        if not isinstance(node, A.FuncDef) or not lint.in_main_file(node.pos):
            continue
        named = {n.name for n in A.walk(node) if isinstance(n, A.Ordinal)}
        named |= {n.expr.name for n in A.walk(node)
                  if isinstance(n, A.VaPtr) and isinstance(n.expr, A.Var)}
        for p in node.params:
            v = sc.vars.get(p.name)
            if v is None or v.kind != "param" or id(v) in reads:
                continue
            if not p.name or p.name in named or p.name.startswith("_"):
                continue
            lint.warn(p.pos, "unused-parameter",
                      f"parameter `{p.name}' of function `{node.name}' is never used")


@rule("unused-function", "a function of the main script (or a static one) that nothing calls")
def unused_function(lint: Lint) -> None:
    chk = lint.chk
    by_sym = {id(sym): fd for sym, fd in
              ((s, lint.defs.get(id(s), (None,))[0]) for s in chk.user_funcs) if fd is not None}
    # Roots: every handler and top-level initializer, `main', and in a module
    # its public functions (the module's interface).
    roots = [i for i in lint.prog.items if not isinstance(i, A.FuncDef)]
    for sym in chk.user_funcs:
        fd = by_sym.get(id(sym))
        if fd is not None and (sym.name == "main" or (lint.is_module and sym.public)):
            roots.append(fd)
    live: set[int] = set()
    stack = list(lint.calls_in(tuple(roots)))
    while stack:
        call = stack.pop()
        sym = chk.funcs.get(call.name)
        if sym is None or id(sym) not in by_sym or id(sym) in live:
            continue
        live.add(id(sym))
        stack.extend(lint.calls_in(by_sym[id(sym)].body))
    for sym in chk.user_funcs:
        fd = by_sym.get(id(sym))
        if fd is None or id(sym) in live or sym.name == "main":
            continue
        if lint.is_module and sym.public:
            continue                     # part of the module's interface
        if not lint.in_main_file(fd.pos):
            continue
        lint.warn(fd.name_pos or fd.pos, "unused-function",
                  f"function `{fd.name}' is never called"
                  + (" by any handler" if not lint.is_module else ""))


# ====================================================================== unreachable
def _stops(st, in_func: bool) -> str | None:
    """Why control never goes past ``st`` (a phrase), or None."""
    if isinstance(st, A.Action):
        return f"the preceding `{st.kind}' ends the handler"
    if isinstance(st, A.Return):
        return "the preceding `return' leaves the " + ("function" if in_func else "handler")
    if isinstance(st, A.Throw):
        return "the preceding `throw' raises an exception"
    if isinstance(st, A.Break):
        return "the preceding `break' leaves the loop"
    if isinstance(st, A.Next):
        return "the preceding `next' starts the next iteration of the loop"
    if isinstance(st, A.If) and st.orelse is not None:
        if all(_block_stops(b, in_func) for _, b in st.branches) and _block_stops(st.orelse, in_func):
            return "every branch of the preceding `if' leaves this block"
    if isinstance(st, A.Switch) and st.default is not None:
        if all(_block_stops(c.body, in_func) for c in st.cases) and _block_stops(st.default, in_func):
            return "every branch of the preceding `switch' leaves this block"
    if isinstance(st, A.Try):
        if _block_stops(st.body, in_func) and _block_stops(st.catch.body, in_func):
            return "both the preceding `try' block and its `catch' leave this block"
    return None


def _block_stops(stmts, in_func) -> bool:
    return any(_stops(s, in_func) for s in stmts)


def _sub_blocks(st):
    if isinstance(st, A.If):
        for _, b in st.branches:
            yield b
        if st.orelse is not None:
            yield st.orelse
    elif isinstance(st, A.Switch):
        for c in st.cases:
            yield c.body
        if st.default is not None:
            yield st.default
    elif isinstance(st, A.Loop):
        yield st.init
        yield st.step
        yield st.body
    elif isinstance(st, A.Try):
        yield st.body
        yield st.catch.body
    elif isinstance(st, A.Catch):
        yield st.body
    elif isinstance(st, A.On):
        for br in st.branches:
            yield br.body


_COMPILE_TIME = (A.Pragma, A.ConstDecl, A.ConstEnum)


@rule("unreachable", "statements that can never run (after return, throw, break, next or an action)")
def unreachable(lint: Lint) -> None:
    def check(stmts, in_func):
        reason = None
        compound = False
        for k, st in enumerate(stmts):
            if reason is not None:
                if isinstance(st, _COMPILE_TIME):
                    continue
                if compound and isinstance(st, A.Return) and all(
                        isinstance(x, _COMPILE_TIME) for x in stmts[k + 1:]):
                    return      # a defensive final `return' after an exhaustive if/else: idiomatic
                lint.warn(st.pos, "unreachable", f"this statement is never executed: {reason}")
                return
            for b in _sub_blocks(st):
                check(b, in_func)
            reason = _stops(st, in_func)
            compound = isinstance(st, (A.If, A.Switch, A.Try))

    for item in lint.prog.items:
        if isinstance(item, A.FuncDef):
            check(item.body, True)
        elif isinstance(item, A.Handler):
            check(item.body, False)


# ====================================================================== DKIM
# Calls that change the message (headers or body).  The header_rename module's
# functions are included: they rewrite headers too.
MODIFIERS = frozenset({"header_add", "header_insert", "header_delete", "header_replace",
                       "replbody", "replbody_fd", "header_rename", "header_prefix_all",
                       "header_prefix_pattern"})
# The message-modification-queue operations dkim_sign cannot cope with.
MMQ_ADDS = frozenset({"header_add", "header_insert"})
# Handlers run for a message before eom (their queued changes reach eom).
BEFORE_EOM = ("envfrom", "envrcpt", "data", "header", "eoh", "body")


def _describe_op(node, main: str | None = None) -> str:
    at = f"line {_line(node.pos)}"
    if main is not None and node.pos and node.pos[0] != main:
        at = f"{os.path.basename(node.pos[0])}:{_line(node.pos)}"
    if isinstance(node, A.HeaderAction):
        return f"the `{node.kind}' action at {at}"
    if node.name not in MODIFIERS and node.name != "dkim_sign":
        return f"`{node.name}' (called at {at})"
    return f"{node.name} at {at}"


class _Summary:
    __slots__ = ("modifies", "signs", "exit_adds", "keeps", "sign_sensitive", "sign_at")

    def __init__(self):
        self.modifies = None        # a modifying node reachable in the function, or None
        self.signs = None           # a dkim_sign call reachable in the function, or None
        self.exit_adds = EMPTY      # header additions queued on some path to a normal exit
        self.keeps = True           # some path reaches a normal exit without mmq_purge
        self.sign_sensitive = None  # dkim_sign reached with the caller's additions still queued

    def key(self):
        return (id(self.modifies), id(self.signs), self.exit_adds, self.keeps,
                id(self.sign_sensitive))


_ENTRY = ("entry",)


class _DkimSummaries:
    """Per user function: does it modify the message, sign it, queue additions?"""

    def __init__(self, lint: Lint):
        self.lint = lint
        self.s: dict[int, _Summary] = {}
        items = list(lint.defs.values())
        for fd, _ in items:
            self.s[id(fd)] = _Summary()
        for _ in range(8):
            before = [self.s[id(fd)].key() for fd, _ in items]
            for fd, chk in items:
                self._update(fd, chk)
            if before == [self.s[id(fd)].key() for fd, _ in items]:
                break

    def get(self, call, chk):
        got = self.lint.callee(call, chk)
        if got is None:
            return None, None
        return got[0], self.s.get(id(got[0]))

    def _update(self, fd, chk):
        sm = self.s[id(fd)]
        for n in A.walk(fd):
            if isinstance(n, A.HeaderAction) and sm.modifies is None:
                sm.modifies = n
            elif isinstance(n, A.Call):
                if n.name in MODIFIERS and sm.modifies is None:
                    sm.modifies = n
                if n.name == "dkim_sign" and sm.signs is None:
                    sm.signs = n
                _, sub = self.get(n, chk)
                if sub is not None and sub is not sm:
                    if sub.modifies is not None and sm.modifies is None:
                        sm.modifies = sub.modifies
                    if sub.signs is not None and sm.signs is None:
                        sm.signs = sub.signs
        fl = _MmqFlow(self.lint, self, chk, report=False)
        fl.run(fd.body, frozenset({_ENTRY}))
        out = fl.normal_exit_state() or EMPTY
        sm.exit_adds = frozenset(f for f in out if f is not _ENTRY)
        sm.keeps = _ENTRY in out
        if fl.sensitive is not None:
            sm.sign_sensitive = fl.sensitive


class _MmqFlow(Flow):
    """Facts: ("add", node) for a queued header addition; _ENTRY for the caller's queue."""

    def __init__(self, lint, sums, chk, report=True, where=None):
        super().__init__()
        self.lint, self.sums, self.chk, self.report = lint, sums, chk, report
        self.where = where or {}          # node id -> "prog NAME" for additions of other handlers
        self.sensitive = None

    def _protected(self):
        return self.caught(lambda e: e is None or self.lint.is_exception(e, "e_badmmq")) \
            or self.lint.global_catch("e_badmmq")

    def _adds(self, s):
        # additions of this body first, then those other handlers left queued
        return sorted((f[1] for f in s if f is not _ENTRY),
                      key=lambda n: (id(n) in self.where, n.pos[1], n.pos[2]))

    def _signing(self, node, s, via=None):
        if self._protected():
            return
        if _ENTRY in s and self.sensitive is None:
            self.sensitive = node
        adds = self._adds(s)
        if not adds or not self.report:
            return
        first = adds[0]
        what = _describe_op(first)
        if id(first) in self.where:
            what = f"{first.name if isinstance(first, A.Call) else 'the `add` action'} " \
                   f"in {self.where[id(first)]} (line {_line(first.pos)})"
        who = "dkim_sign" if via is None else f"`{via}' calls dkim_sign, which"
        self.lint.warn(node.pos, "mmq-before-dkim-sign",
                       f"{who} will raise e_badmmq (\"MMQ incompatible with dkim_sign\") because "
                       f"{what} queued a header addition before it; call mmq_purge() before "
                       f"signing, or handle e_badmmq with try ... catch")

    def on_call(self, call, s):
        if call.name in MMQ_ADDS:
            return s | {("add", call)}
        if call.name == "mmq_purge":
            return EMPTY
        if call.name == "dkim_sign":
            self._signing(call, s)
            return s
        fd, sm = self.sums.get(call, self.chk)
        if sm is None:
            return s
        if sm.sign_sensitive is not None:
            self._signing(call, s, via=fd.name)
        base = s if sm.keeps else EMPTY
        # the additions the callee leaves queued are reported at this call
        return base | {("add", call)} if sm.exit_adds else base

    def on_header_action(self, node, s):
        if node.kind == "add":
            return s | {("add", node)}
        return s


class _SignFlow(Flow):
    """Facts: ("signed", call) once dkim_sign may have run."""

    def __init__(self, lint, sums, chk):
        super().__init__()
        self.lint, self.sums, self.chk = lint, sums, chk

    def _after(self, node, s, via=None, what=None):
        signed = sorted((f[1] for f in s if f[0] == "signed"), key=lambda n: (n.pos[1], n.pos[2]))
        if not signed:
            return
        sig = signed[0]
        if via is None:
            what = _describe_op(node).split(" at line")[0]
            lead = f"{what} changes the message"
        else:
            lead = f"`{via}' changes the message ({_describe_op(what, self.lint.file)})"
        self.lint.warn(node.pos, "header-after-dkim-sign",
                       f"{lead} after dkim_sign (line {_line(sig.pos)}) signed it: the DKIM "
                       f"signature will not cover this change and may fail to verify; make all "
                       f"changes before calling dkim_sign")

    def on_call(self, call, s):
        if call.name in MODIFIERS:
            self._after(call, s)
            return s
        if call.name == "dkim_sign":
            return s | {("signed", call)}
        fd, sm = self.sums.get(call, self.chk)
        if sm is None:
            return s
        if sm.modifies is not None:
            self._after(call, s, via=fd.name, what=sm.modifies)
        if sm.signs is not None:
            return s | {("signed", call)}
        return s

    def on_header_action(self, node, s):
        self._after(node, s)
        return s


def _bodies(lint):
    for item in lint.prog.items:
        if isinstance(item, (A.FuncDef, A.Handler)):
            yield item


_SUMS_KEY = "_dkim_summaries"


def _sums(lint):
    s = getattr(lint, _SUMS_KEY, None)
    if s is None:
        s = _DkimSummaries(lint)
        setattr(lint, _SUMS_KEY, s)
    return s


def _uses_dkim(lint) -> bool:
    """dkim_sign is called somewhere in the main program (directly or through a function)."""
    if not any(c.name == "dkim_sign" for c in lint.calls_in(lint.prog)) and not any(
            c.name == "dkim_sign" for fd, _ in lint.defs.values() for c in lint.calls_in(fd)):
        return False                     # the common case: no need for the summaries
    for item in _bodies(lint):
        for c in lint.calls_in(item):
            if c.name == "dkim_sign":
                return True
            got = lint.callee(c)
            if got is not None and _sums(lint).s[id(got[0])].signs is not None:
                return True
    return False


@rule("header-after-dkim-sign",
      "a header or body change after dkim_sign: the signature does not cover it")
def header_after_dkim_sign(lint: Lint) -> None:
    if not _uses_dkim(lint):
        return
    sums = _sums(lint)
    for item in _bodies(lint):
        _SignFlow(lint, sums, lint.chk).run(item.body, EMPTY)


@rule("mmq-before-dkim-sign",
      "header_add, header_insert or `add' queued before dkim_sign, which then raises e_badmmq")
def mmq_before_dkim_sign(lint: Lint) -> None:
    if not _uses_dkim(lint):
        return
    sums = _sums(lint)
    # Header additions that earlier handlers may leave queued for the message.
    carried = EMPTY
    where: dict[int, str] = {}
    for h in lint.handlers:
        if h.name not in BEFORE_EOM:
            continue
        fl = _MmqFlow(lint, sums, lint.chk, report=False)
        fl.run(h.body, EMPTY)
        out = fl.normal_exit_state() or EMPTY
        for f in out:
            if f is not _ENTRY:
                where.setdefault(id(f[1]), f"prog {h.name}")
        carried |= frozenset(f for f in out if f is not _ENTRY)
    for item in _bodies(lint):
        start = carried if isinstance(item, A.Handler) and item.name == "eom" else EMPTY
        _MmqFlow(lint, sums, lint.chk, report=True, where=where).run(item.body, start)


# ====================================================================== macros
# Postfix's default milter_*_macros (`postconf -d`, Postfix 3.7.11):
#   milter_connect_macros = j {daemon_name} {daemon_addr} v _
#   milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
#   milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
#   milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
#   milter_data_macros = i
#   milter_end_of_header_macros = i
#   milter_end_of_data_macros = i
POSTFIX_DEFAULT_MACROS: dict[str, frozenset] = {
    "connect": frozenset({"j", "daemon_name", "daemon_addr", "v", "_"}),
    "helo": frozenset({"tls_version", "cipher", "cipher_bits", "cert_subject", "cert_issuer"}),
    "envfrom": frozenset({"i", "auth_type", "auth_authen", "auth_author", "mail_addr",
                          "mail_host", "mail_mailer"}),
    "envrcpt": frozenset({"i", "rcpt_addr", "rcpt_host", "rcpt_mailer"}),
    "data": frozenset({"i"}),
    "eoh": frozenset({"i"}),
    "eom": frozenset({"i"}),
}
# The only Sendmail macros Postfix emulates (smtpd_milter.c, smtpd_milter_eval),
# with the first stage at which it can give them a value.  Postfix opens the
# queue file late (smtpd_delay_open_until_valid_rcpt), so `i' is only defined
# from DATA on: mailfromd's manual, "Using mailfromd with Postfix".
POSTFIX_MACROS: dict[str, str] = {
    **{m: "connect" for m in ("j", "_", "v", "daemon_name", "daemon_addr", "daemon_port",
                              "client_addr", "client_port", "client_connections", "client_name",
                              "client_ptr", "client_resolve")},
    **{m: "helo" for m in ("tls_version", "cipher", "cipher_bits", "cert_subject", "cert_issuer")},
    **{m: "envfrom" for m in ("auth_type", "auth_authen", "auth_author", "mail_addr",
                              "mail_host", "mail_mailer")},
    **{m: "envrcpt" for m in ("rcpt_addr", "rcpt_host", "rcpt_mailer")},
    "i": "data",
}
# The milter stage at which mailfromd asks the MTA for the macros a handler
# uses (as `mailfromd --dump-macros` shows: header and body ask at data).
REQUEST_STAGE = {"connect": "connect", "helo": "helo", "envfrom": "envfrom",
                 "envrcpt": "envrcpt", "data": "data", "header": "data", "eoh": "eoh",
                 "body": "data", "eom": "eom"}
POSTFIX_PARAM = {"connect": "milter_connect_macros", "helo": "milter_helo_macros",
                 "envfrom": "milter_mail_macros", "envrcpt": "milter_rcpt_macros",
                 "data": "milter_data_macros", "eoh": "milter_end_of_header_macros",
                 "eom": "milter_end_of_data_macros"}


def _macro_name(s: str) -> str:
    s = s.strip()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1]
    return s


def _macros_in(node):
    """(name, node) for every $macro and getmacro("literal") in ``node``."""
    for n in A.walk(node):
        if isinstance(n, A.Macro):
            yield n.name, n
        elif isinstance(n, A.Call) and n.name == "getmacro" and n.args and isinstance(
                n.args[0], A.Str):
            yield _macro_name(n.args[0].value), n


def _guards_macroundef(lint, node) -> bool:
    for n in A.walk(node):
        if isinstance(n, A.Catch) and (n.exceptions is None or any(
                lint.is_exception(e, "e_macroundef") for e in n.exceptions)):
            return True
    return False


@rule("macro-not-sent",
      "a Sendmail macro that Postfix does not send to the handler using it")
def macro_not_sent(lint: Lint) -> None:
    milter = [h for h in lint.handlers if h.name in STAGE_INDEX]
    if not milter:
        return
    # What mailfromd will ask the MTA for, per stage: the macros written
    # directly in handlers, and those declared with #pragma miltermacros.
    requested: dict[str, set] = {s: set() for s in POSTFIX_PARAM}
    for h in milter:
        for n in A.walk(h):
            if isinstance(n, A.Macro):
                requested[REQUEST_STAGE[h.name]].add(n.name)
    for n in A.walk(lint.prog):
        if isinstance(n, A.Pragma) and len(n.words) > 2 and n.words[0] == "miltermacros":
            st = REQUEST_STAGE.get(n.words[1])
            if st:
                requested[st].update(_macro_name(w.rstrip(",")) for w in n.words[2:])
    def tested_in(node):
        return {_macro_name(c.args[0].value) for c in lint.calls_in(node)
                if c.name == "macro_defined" and c.args and isinstance(c.args[0], A.Str)}

    tested = tested_in(lint.prog)
    guarded_all = lint.global_catch("e_macroundef")

    def can(m, stage):
        first = POSTFIX_MACROS.get(m)
        return first is not None and STAGE_INDEX[first] <= STAGE_INDEX[stage]

    def sent(m, h):
        for st, defaults in POSTFIX_DEFAULT_MACROS.items():
            if STAGE_INDEX[st] <= STAGE_INDEX[h] and (m in defaults or m in requested[st]) \
                    and can(m, st):
                return True
        return False

    for h in milter:
        if guarded_all or _guards_macroundef(lint, h):
            continue
        uses = []                                    # (macro, where to report, via, direct)
        for m, n in _macros_in(h):
            uses.append((m, n, None, isinstance(n, A.Macro)))
        for fd, chk, origin in lint.reachable(h.body):
            if _guards_macroundef(lint, fd):
                continue
            checked = tested_in(fd)
            for m, n in _macros_in(fd):
                if m not in checked:
                    uses.append((m, origin, fd.name, False))
        done = set()
        for m, where, via, direct in uses:
            if m in done or m in tested:
                continue
            done.add(m)
            how = "" if via is None else f" (through function `{via}')"
            first = POSTFIX_MACROS.get(m)
            if first is None:
                lint.warn(where.pos, "macro-not-sent",
                          f"Postfix never sends the Sendmail macro `{m}' used in prog {h.name}"
                          f"{how}: it does not emulate this macro, so with Postfix it is "
                          f"undefined here and reading it raises e_macroundef")
            elif STAGE_INDEX[first] > STAGE_INDEX[h.name]:
                why = (" (Postfix assigns the queue ID late, see \"Using mailfromd with "
                       "Postfix\" in mailfromd's manual)" if m == "i" else "")
                lint.warn(where.pos, "macro-not-sent",
                          f"Postfix cannot send the macro `{m}' to prog {h.name}{how}: it has "
                          f"no value before prog {first}{why}, so reading it here raises "
                          f"e_macroundef")
            elif not direct and not sent(m, h.name):
                st = REQUEST_STAGE[h.name]
                lint.warn(where.pos, "macro-not-sent",
                          f"Postfix does not send the macro `{m}' to prog {h.name} by default, "
                          f"and mailfromd only requests the macros written directly in a "
                          f"handler{how}; declare it with `#pragma miltermacros {h.name} {m}' or "
                          f"add {{{m}}} to {POSTFIX_PARAM[st]} in Postfix's main.cf")


# ====================================================================== catch
# Constructs that can raise an exception without any function call.
_NO_RAISE_NODES = (A.Action, A.HeaderAction, A.Echo, A.Pass, A.Pragma, A.Str, A.Interp,
                   A.Macro, A.Var, A.Num, A.ArgCount, A.ConstDecl, A.ConstEnum, A.Case)


def _raisable(lint, body):
    """The exception codes ``body`` can raise, or None if it could raise anything."""
    codes: set = set()
    nodes = list(_walk_all(body))
    for n in nodes:
        if isinstance(n, (A.Call, A.On, A.Poll, A.BackRef, A.VarArgs)):
            return None
        if isinstance(n, A.Match) and n.mx:
            return None
        if isinstance(n, A.Throw):
            c = lint.exception_code(n.code)
            if c is None:
                return None
            codes.add(c)

    def code(name):
        v = lint.const_value(name)
        return v if isinstance(v, int) else None

    for n in nodes:
        if isinstance(n, A.Binary) and n.op in ("/", "%") and not (
                isinstance(n.right, A.Num) and n.right.value != 0):
            codes.add(code("e_divzero"))
        if isinstance(n, A.Macro):
            codes.add(code("e_macroundef"))
        if isinstance(n, A.Match) and not isinstance(n.right, A.Str):
            codes.add(code("e_regcomp"))
        if isinstance(n, A.Arg) and n.paren:
            codes.add(code("e_range"))
        if isinstance(n, A.Action) and n.functional:
            codes.add(code("e_ston_conv"))
        elif isinstance(n, A.Binary) and n.op == ".":
            pass
        elif isinstance(n, A.Arg) and not n.paren:
            pass
        elif not isinstance(n, _NO_RAISE_NODES):
            codes.add(code("e_ston_conv"))
    codes.discard(None)
    return codes


_CATCH_REASON = {
    "e_divzero": "there is no division or modulo by a value that could be zero",
    "e_macroundef": "it reads no Sendmail macro",
    "e_regcomp": "it builds no regular expression at run time",
    "e_ston_conv": "it converts no string to a number",
    "e_range": "it takes no variadic argument by number",
}


@rule("catch-never-matches",
      "a catch for an exception its try block cannot raise, or one listed twice")
def catch_never_matches(lint: Lint) -> None:
    names_by_code: dict = {}
    for name, c in lint.chk.consts.items():
        if getattr(c, "exception", False) and isinstance(c.value, int):
            names_by_code.setdefault(c.value, name)

    def label(e):
        return e.name if isinstance(e, A.Var) else str(getattr(e, "value", "?"))

    for n in A.walk(lint.prog):
        catch = n.catch if isinstance(n, A.Try) else n if isinstance(n, A.Catch) else None
        if catch is None or catch.exceptions is None or (isinstance(n, A.Catch) and not n.standalone):
            continue
        seen: dict = {}
        for e in catch.exceptions:
            c = lint.exception_code(e)
            if c is None:
                continue
            if c in seen:
                prev = seen[c]
                if label(prev) == label(e):
                    msg = f"exception `{label(e)}' is listed twice in this catch"
                else:
                    msg = (f"`{label(e)}' and `{label(prev)}' are the same exception: "
                           f"one of them is redundant in this catch")
                lint.warn(e.pos, "catch-never-matches", msg)
                continue
            seen[c] = e
        if not isinstance(n, A.Try):
            continue
        can = _raisable(lint, n.body)
        if can is None:
            continue
        for c, e in seen.items():
            if c in can:
                continue
            canon = names_by_code.get(c, label(e))
            reason = _CATCH_REASON.get(canon, "it calls no function and throws no such exception")
            lint.warn(e.pos, "catch-never-matches",
                      f"this catch never handles `{label(e)}': nothing in the try block can "
                      f"raise it ({reason})")
