"""Compile a checked Unit into closures: each AST node is turned into a Python
function once; running a handler never dispatches on node types.

Statement closures take a Frame and return None, or a signal tuple:
``(RET, value)``, ``(BRK, label)``, ``(NXT, label)``.  Expression closures take
a Frame and return a str or an int.  Actions raise ActionSignal; MFL
exceptions are MFLException.
"""
from __future__ import annotations

from .. import regex as rx
from ..builtins import registry as R
from ..runtime.errors import MFLException, RuntimeFault
from ..runtime.state import ActionSignal, Frame, Mod
from ..runtime.values import div, mod, shl, shr, to_num, to_str, truth, wrap
from ..syntax import ast as A
from .program import Func, Handler, Program

RET, BRK, NXT = 0, 1, 2
STRING, NUMBER = "string", "number"


def conv(t):
    """The converter to the MFL type t (identity for any/pointer)."""
    if t == NUMBER:
        return to_num
    if t == STRING:
        return to_str
    return None


class Ctx:
    """Names visible while compiling one module (or the main file)."""

    def __init__(self, module: str):
        self.module = module
        self.vars: dict = {}       # name -> (slot, type)
        self.consts: dict = {}     # name -> value
        self.funcs: dict = {}      # name -> Func or Builtin
        self.public_vars: dict = {}
        self.public_consts: dict = {}
        self.public_funcs: dict = {}
        self.default_public = True
        self.regex = rx.PragmaState()


class Scope:
    def __init__(self, kind: str, name: str, func: Func | None = None):
        self.kind, self.name, self.func = kind, name, func
        self.locals: dict = {}     # name -> (slot, type)
        self.params: dict = {}     # name -> (index, type)
        self.consts: dict = {}
        self.nlocals = 0
        self.defaults: list = []   # the type default of each local slot

    def new_local(self, name, typ) -> int:
        slot = self.nlocals
        self.nlocals += 1
        self.defaults.append(0 if typ == NUMBER else "")
        self.locals[name] = (slot, typ)
        return slot


class Compiler:
    def __init__(self, unit, progname: str = "mfld"):
        self.unit = unit
        self.prog = Program(unit.file, progname)
        self.modules_done: dict = {}
        self.ctx: Ctx | None = None
        self.scope: Scope | None = None
        self.exc_counter = 0

    # ------------------------------------------------------------ driver
    def compile(self) -> Program:
        self.compile_items(self.unit.program.items, Ctx(""))
        return self.prog

    def compile_items(self, items, ctx: Ctx) -> Ctx:
        saved = self.ctx
        self.ctx = ctx
        for it in items:
            getattr(self, "top_" + type(it).__name__)(it)
        self.ctx = saved
        return ctx

    def where(self, pos) -> str:
        return f"{pos[0]}:{pos[1]}" if pos else "?"

    # ------------------------------------------------------------ top level
    def top_Pragma(self, p):
        if p.words and p.words[0] == "regex":
            self.ctx.regex.apply(p.words[1:])

    def top_ModuleDecl(self, m):
        self.ctx.default_public = m.interface != "static"

    def _public(self, quals) -> bool:
        if "static" in quals:
            return False
        if "public" in quals:
            return True
        return self.ctx.default_public

    def top_Require(self, r):
        self.require(r.module)

    def require(self, name: str) -> Ctx | None:
        ctx = self.modules_done.get(name)
        if ctx is None:
            entry = self.unit.modules.get(name)
            if entry is None:
                return None
            prog, _chk = entry
            ctx = Ctx(name)
            self.modules_done[name] = ctx
            self.compile_items(prog.items, ctx)
        self.ctx.vars.update(ctx.public_vars)
        self.ctx.consts.update(ctx.public_consts)
        self.ctx.funcs.update(ctx.public_funcs)
        return ctx

    def top_FromImport(self, fi):
        ctx = self.modules_done.get(fi.module)
        if ctx is None:
            saved = self.ctx
            self.ctx = Ctx("tmp")
            ctx = self.require(fi.module)
            self.ctx = saved
        if ctx is None:
            return
        import re
        for pat in fi.names:
            if pat.startswith("/"):
                body = pat[1:]
                k = body.find("/")
                rxs, sexpr = (body[:k], body[k + 1:]) if k >= 0 else (body, "")
                creg = re.compile(rxs)
                from ..check.checker import _apply_sexpr
                for tbl, dst in ((ctx.public_funcs, self.ctx.funcs), (ctx.public_vars, self.ctx.vars),
                                 (ctx.public_consts, self.ctx.consts)):
                    for n, v in tbl.items():
                        if creg.search(n):
                            dst[_apply_sexpr(sexpr, n)] = v
            else:
                for tbl, dst in ((ctx.public_funcs, self.ctx.funcs), (ctx.public_vars, self.ctx.vars),
                                 (ctx.public_consts, self.ctx.consts)):
                    if pat in tbl:
                        dst[pat] = tbl[pat]

    def new_global(self, name, typ, default, quals=()) -> int:
        slot = len(self.prog.global_defaults)
        self.prog.global_defaults.append(default)
        if "precious" not in quals:
            self.prog.nonprecious.append(slot)
        self.prog.global_names[f"{self.ctx.module}:{name}"] = slot
        self.ctx.vars[name] = (slot, typ)
        if self._public(quals):
            self.ctx.public_vars[name] = (slot, typ)
        return slot

    def const_value(self, e):
        """Evaluate a constant expression at compile time (the checker vouched for it)."""
        f, _t = self.expr(e)
        return f(Frame([]))

    def top_VarDecl(self, v):
        default = "" if v.type == STRING else 0
        if v.init is not None:
            default = conv(v.type)(self.const_value(v.init))
        self.new_global(v.name, v.type, default, v.qualifiers)
        if v.init is not None:
            self.prog.initialized[f"{self.ctx.module}:{v.name}"] = v.name_pos or v.pos

    def top_Set(self, s):
        val = self.const_value(s.value)
        if s.name in self.ctx.vars:
            slot, typ = self.ctx.vars[s.name]
            self.prog.global_defaults[slot] = conv(typ)(val)
        else:
            t = NUMBER if isinstance(val, int) else STRING
            self.new_global(s.name, t, val)
        self.prog.initialized.setdefault(f"{self.ctx.module}:{s.name}", s.name_pos or s.pos)

    def top_ConstDecl(self, c, prev=None):
        if c.value is not None:
            val = self.const_value(c.value)
        else:
            val = 0 if prev is None else (prev + 1 if isinstance(prev, int) else 0)
        target = self.scope.consts if self.scope else self.ctx.consts
        target[c.name] = val
        if self.scope is None and self._public((c.qualifier,) if c.qualifier else ()):
            self.ctx.public_consts[c.name] = val
        return val

    def top_ConstEnum(self, e):
        prev = None
        for item in e.items:
            prev = self.top_ConstDecl(item, prev)

    def top_Dclex(self, d):
        code = self.exc_counter
        self.exc_counter += 1
        self.ctx.consts[d.name] = code
        self.prog.exceptions[d.name] = code
        if self.ctx.default_public:
            self.ctx.public_consts[d.name] = code

    def top_FuncDef(self, fd):
        nreq = sum(1 for p in fd.params if not p.optional)
        fn = Func(fd.name, tuple(p.type for p in fd.params), nreq, fd.variadic, fd.returns,
                  fd.pos)
        public = self._public((fd.qualifier,) if fd.qualifier else ())
        for n in (fd.name,) + tuple(fd.aliases):
            self.ctx.funcs[n] = fn
            if public:
                self.ctx.public_funcs[n] = fn
        if not self.modules_done and self.ctx.module == "":
            self.prog.funcs[fd.name] = fn
        sc = Scope("func", fd.name, fn)
        for i, p in enumerate(fd.params):
            if p.name:
                sc.params[p.name] = (i, p.type)
        self.scope = sc
        body = self.block(fd.body)
        self.scope = None
        fn.nlocals = sc.nlocals
        fn.local_defaults = tuple(sc.defaults)
        fn.body = body
        self.prog.funcs.setdefault(fd.name, fn)

    def top_Handler(self, h):
        sc = Scope("handler", h.name)
        self.scope = sc
        body = self.block(h.body)
        self.scope = None
        hd = Handler(h.name, h.pos, sc.nlocals, body)
        hd.local_defaults = tuple(sc.defaults)
        if h.name in ("begin", "end", "startup", "shutdown"):
            self.prog.handlers.setdefault(h.name, []).append(hd)
        else:
            self.prog.handlers.setdefault(h.name, [hd])   # mailfromd keeps the first

    # ------------------------------------------------------------ statements
    def block(self, stmts):
        """Compile a statement list; a standalone catch guards the rest of the list."""
        stmts = list(stmts)
        for i, s in enumerate(stmts):
            if isinstance(s, A.Catch) and s.standalone:
                head = [self.stmt(x) for x in stmts[:i]]
                guard = self.standalone_catch(s, stmts[i + 1:])
                return self._seq(head + [guard], [x.pos for x in stmts[:i]] + [s.pos])
        fns = []
        for i, s in enumerate(stmts):
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            if (isinstance(nxt, A.Pragma) and nxt.words[:1] == ("regex",)
                    and _ends_with_regex_literal(s)):
                # mailfromd's parser reads the pragma as its lookahead token before
                # it compiles the match: the pragma already applies to the literal
                import copy
                saved = self.ctx.regex
                self.ctx.regex = copy.deepcopy(saved)
                self.ctx.regex.apply(nxt.words[1:])
                fns.append(self.stmt(s))
                self.ctx.regex = saved
            else:
                fns.append(self.stmt(s))
        return self._seq(fns, [s.pos for s in stmts])

    def _seq(self, fns, poss):
        if len(fns) == 1:
            f0, p0 = fns[0], poss[0]

            def one(fr):
                try:
                    return f0(fr)
                except (MFLException, RuntimeFault) as e:
                    if getattr(e, "pos", None) is None:
                        e.pos = p0
                    raise
            return one
        fns = tuple(fns)

        def seq(fr):
            i = 0
            try:
                for i, f in enumerate(fns):
                    r = f(fr)
                    if r is not None:
                        return r
            except (MFLException, RuntimeFault) as e:
                if getattr(e, "pos", None) is None:
                    e.pos = poss[i]
                raise
            return None
        return seq

    def stmt(self, s):
        return getattr(self, "st_" + type(s).__name__)(s)

    def st_Pragma(self, p):
        self.top_Pragma(p)
        return lambda fr: None

    def st_ConstDecl(self, c):
        self.top_ConstDecl(c)
        return lambda fr: None

    def assign(self, name, pos, value_fn, vtype):
        sc = self.scope
        if name in sc.locals:
            slot, typ = sc.locals[name]
        elif name in sc.params:
            idx, typ = sc.params[name]
            c = conv(typ)

            pdefaults = [0 if t == NUMBER else "" for t in (sc.func.params if sc.func else ())]

            def setp(fr):
                a = fr.args
                v = c(value_fn(fr))
                if idx >= len(a):               # an optional parameter the caller omitted
                    a.extend(pdefaults[len(a):idx + 1])
                a[idx] = v
            return setp
        elif name in self.ctx.vars or name in R.VARIABLES:
            if name in self.ctx.vars:
                gslot, typ = self.ctx.vars[name]
            else:
                bv = R.VARIABLES[name]
                gslot, typ = self.builtin_var_slot(name, bv), bv.type
            c = conv(typ)

            def setg(fr):
                fr.rt.globals[gslot] = c(value_fn(fr))
            return setg
        else:
            typ = vtype or STRING
            slot = sc.new_local(name, typ)
        c = conv(typ)

        def setl(fr):
            fr.locals[slot] = c(value_fn(fr))
        return setl

    def st_Set(self, s):
        f, t = self.expr(s.value)
        return self.assign(s.name, s.pos, f, t)

    def st_VarDecl(self, v):
        typ = v.type
        if v.init is not None:
            f, _t = self.expr(v.init)
            slot = self.scope.new_local(v.name, typ)
            c = conv(typ)

            def decl(fr):
                fr.locals[slot] = c(f(fr))
            return decl
        slot = self.scope.new_local(v.name, typ)
        d = "" if typ == STRING else 0

        def decl0(fr):
            fr.locals[slot] = d
        return decl0

    def cond(self, e):
        f, t = self.expr(e)
        if t == NUMBER:
            return lambda fr: f(fr) != 0
        return lambda fr: truth(f(fr))

    def st_If(self, s):
        branches = tuple((self.cond(c), self.block(b)) for c, b in s.branches)
        orelse = self.block(s.orelse) if s.orelse else None

        def if_(fr):
            for c, b in branches:
                if c(fr):
                    return b(fr)
            if orelse is not None:
                return orelse(fr)
            return None
        return if_

    def st_Switch(self, s):
        f, t = self.expr(s.expr)
        table = {}
        for case in s.cases:
            body = self.block(case.body)
            for v in case.values:
                val = self.const_value(v)
                key = to_num(val) if t == NUMBER else to_str(val)
                table.setdefault(key, body)
        default = self.block(s.default) if s.default else None
        c = conv(t) or to_str

        def switch(fr):
            b = table.get(c(f(fr)), default)
            return b(fr) if b is not None else None
        return switch

    def st_Loop(self, s):
        init = self.block(s.init) if s.init else None
        cond = self.cond(s.cond) if s.cond is not None else None
        if s.cond is not None and self.expr(s.cond)[1] == STRING:
            # mailfromd 8.15 tests a string `while' condition as always true
            cf = self.expr(s.cond)[0]
            cond = lambda fr: (cf(fr), True)[1]
        step = self.block(s.step) if s.step else None
        body = self.block(s.body)
        post = self.cond(s.post) if s.post is not None else None
        label = s.label

        def loop(fr):
            rt = fr.rt
            if init is not None:
                r = init(fr)
                if r is not None:
                    return r
            while True:
                if cond is not None and not cond(fr):
                    return None
                rt.steps += 1
                if rt.steps > rt.step_limit:
                    raise RuntimeFault("instruction budget exhausted (endless loop?)")
                r = body(fr)
                if r is not None:
                    kind = r[0]
                    if kind == BRK and (r[1] is None or r[1] == label):
                        return None
                    if not (kind == NXT and (r[1] is None or r[1] == label)):
                        return r
                if step is not None:
                    r = step(fr)
                    if r is not None:
                        return r
                if post is not None and not post(fr):
                    return None
        return loop

    def st_Break(self, s):
        sig = (BRK, s.label)
        return lambda fr: sig

    def st_Next(self, s):
        sig = (NXT, s.label)
        return lambda fr: sig

    def st_Return(self, s):
        if s.value is None:
            sig = (RET, None)
            return lambda fr: sig
        f, _t = self.expr(s.value)
        c = conv(self.scope.func.returns) if self.scope.func and self.scope.func.returns else None
        if c is None:
            return lambda fr: (RET, f(fr))
        return lambda fr: (RET, c(f(fr)))

    def exc_codes(self, exceptions):
        if exceptions is None:
            return None
        return frozenset(to_num(self.const_value(e)) for e in exceptions)

    def catch_body(self, c):
        return self.block(c.body)

    def st_Try(self, s):
        body = self.block(s.body)
        codes = self.exc_codes(s.catch.exceptions)
        handler = self.catch_body(s.catch)

        def run_handler(fr, e):
            saved = fr.catch
            fr.catch = (e.code, e.message)
            try:
                return handler(fr)
            finally:
                fr.catch = saved

        def try_(fr):
            try:
                return body(fr)
            except MFLException as e:
                if codes is not None and e.code not in codes:
                    raise
                try:
                    return run_handler(fr, e)
                except MFLException as e2:
                    # mailfromd keeps the catch in force while its body runs: an
                    # exception there is handled once more, then propagates
                    if codes is not None and e2.code not in codes:
                        raise
                    return run_handler(fr, e2)
        return try_

    def standalone_catch(self, c, rest):
        codes = self.exc_codes(c.exceptions)
        handler = self.catch_body(c)
        body = self.block(rest) if rest else (lambda fr: None)
        in_func = self.scope.kind == "func"
        if self.scope.kind == "handler" and self.scope.name == "begin":
            # a catch in `begin' covers the whole session (every later handler)
            def install(fr):
                fr.rt.global_catch.append((codes, handler))
                return body(fr)
            return install

        def guarded(fr):
            try:
                return body(fr)
            except MFLException as e:
                if codes is not None and e.code not in codes:
                    raise
                saved = fr.catch
                fr.catch = (e.code, e.message)
                try:
                    r = handler(fr)
                finally:
                    fr.catch = saved
                if r is not None:
                    return r
                if in_func:
                    return (RET, 0)
                raise                       # no action taken: still uncaught (mailfromd)
        return guarded

    def st_Catch(self, c):                          # only reached for try's catch
        return self.catch_body(c)

    def st_Throw(self, t):
        code = to_num(self.const_value(t.code))
        if t.message is not None:
            f, _ = self.expr(t.message)
        else:
            f = lambda fr: ""

        def throw(fr):
            raise MFLException(None, to_str(f(fr)), code)
        return throw

    def st_Pass(self, s):
        return lambda fr: None

    def st_Echo(self, e):
        f, t = self.expr(e.value)

        def echo(fr):
            fr.rt.echo(to_str(f(fr)))
        return echo

    def st_On(self, o):
        if isinstance(o.cond, A.Poll):
            call = self.poll_call(o.cond)
        else:
            call, _ = self.expr(o.cond)
        table = {}
        codes = set()
        for br in o.branches:
            body = self.block(br.body)
            for v in br.values:
                n = to_num(self.const_value(v))
                codes.add(n)
                table.setdefault(n, body)

        def on(fr):
            try:
                v = to_num(call(fr))
            except MFLException as e:
                if e.code not in codes:
                    raise
                v = e.code
            b = table.get(v)
            return b(fr) if b is not None else None
        return on

    def poll_call(self, p):
        args = []
        ehlo = p.ehlo if p.ehlo is not None else A.Var(p.pos, "ehlo_domain")
        mfrom = p.mailfrom if p.mailfrom is not None else A.Var(p.pos, "mailfrom_address")
        if p.host is not None:
            call = A.Call(p.pos, "strictpoll", (p.host, p.email, ehlo, mfrom))
        else:
            call = A.Call(p.pos, "stdpoll", (p.email, ehlo, mfrom))
        f, _ = self.expr(call)
        return f

    def st_Action(self, a):
        kind = a.kind
        pos = a.pos
        if kind in ("accept", "continue", "discard"):
            def act(fr):
                s = ActionSignal(kind)
                s.pos = pos
                raise s
            return act
        if a.functional:
            parts = [self.expr(x)[0] if x is not None else None for x in (a.code, a.xcode, a.message)]

            def actf(fr):
                code, xcode, text = (to_str(p(fr)) if p is not None else None for p in parts)
                s = ActionSignal(kind, code or None, xcode or None, text)
                s.pos = pos
                raise s
            return actf
        code = a.code.value if a.code is not None else None
        xcode = a.xcode.value if a.xcode is not None else None
        msg = self.expr(a.message)[0] if a.message is not None else None

        def actl(fr):
            s = ActionSignal(kind, code, xcode, to_str(msg(fr)) if msg is not None else None)
            s.pos = pos
            raise s
        return actl

    def st_HeaderAction(self, h):
        kind = {"add": "add_header", "replace": "replace_header",
                "delete": "delete_header"}[h.kind]
        name = h.name
        vf = self.expr(h.value)[0] if h.value is not None else (lambda fr: "")

        def hdr(fr):
            fr.rt.queue(Mod(kind, name, to_str(vf(fr))))
        return hdr

    def st_ExprStmt(self, s):
        e = s.expr
        if isinstance(e, A.Cast) and e.type == "void":
            f, _ = self.expr(e.expr)
        elif isinstance(e, A.Call) and e.name == "void" and len(e.args) == 1:
            f, _ = self.expr(e.args[0])
        else:
            f, _ = self.expr(e)

        def run(fr):
            f(fr)
        return run

    # ------------------------------------------------------------ expressions
    def expr(self, e):
        return getattr(self, "ex_" + type(e).__name__)(e)

    def ex_Num(self, e):
        v = e.value
        return (lambda fr: v), NUMBER

    def ex_Str(self, e):
        v = e.value
        return (lambda fr: v), STRING

    def ex_Interp(self, e):
        fs = tuple(self.expr(p)[0] for p in e.parts)

        def interp(fr):
            return "".join([to_str(f(fr)) for f in fs])
        return interp, STRING

    def lookup_const(self, name):
        if self.scope is not None and name in self.scope.consts:
            return True, self.scope.consts[name]
        if name in self.ctx.consts:
            return True, self.ctx.consts[name]
        c = R.CONSTANTS.get(name)
        if c is not None and name not in R.EXCEPTIONS:
            return True, self.builtin_const(name, c)
        return False, None

    def builtin_const(self, name, c):
        return c.value

    def ex_Var(self, e):
        name = e.name
        sc = self.scope
        if name in _POS_CONSTS and not (sc and (name in sc.locals or name in sc.params)):
            if name == "__file__":
                v = e.pos[0] if e.pos else ""
            elif name == "__line__":
                v = e.pos[1] if e.pos else 0
            elif name == "__function__":
                v = sc.name if sc else ""
            else:
                v = self.ctx.module or "top"
            return (lambda fr: v), (NUMBER if isinstance(v, int) else STRING)
        if e.percent:
            # in strings a variable shadows a constant of the same name
            got = self.var_ref(name)
            if got is not None:
                return got
            ok, v = self.lookup_const(name)
            return (lambda fr: v), (NUMBER if isinstance(v, int) else STRING)
        if sc is not None and (name in sc.locals or name in sc.params):
            return self.var_ref(name)
        ok, v = self.lookup_const(name)
        if ok:
            return (lambda fr: v), (NUMBER if isinstance(v, int) else STRING)
        got = self.var_ref(name)
        if got is None:
            raise RuntimeFault(f"undefined name `{name}'", e.pos)
        return got

    def var_ref(self, name):
        sc = self.scope
        if sc is not None:
            if name in sc.locals:
                slot, t = sc.locals[name]
                return (lambda fr: fr.locals[slot]), t
            if name in sc.params:
                idx, t = sc.params[name]
                d = "" if t == STRING else 0
                if sc.func is not None and idx < sc.func.nreq:
                    return (lambda fr: fr.args[idx]), t      # mandatory: always given

                def param(fr):
                    a = fr.args
                    return a[idx] if idx < len(a) else d
                return param, t
        if name in self.ctx.vars:
            slot, t = self.ctx.vars[name]
            return (lambda fr: fr.rt.globals[slot]), t
        bv = R.VARIABLES.get(name)
        if bv is not None:
            slot = self.builtin_var_slot(name, bv)
            return (lambda fr: fr.rt.globals[slot]), bv.type
        return None

    def builtin_var_slot(self, name, bv) -> int:
        key = f":builtin:{name}"
        slot = self.prog.global_names.get(key)
        if slot is None:
            slot = len(self.prog.global_defaults)
            d = bv.default if bv.default is not None else ("" if bv.type == STRING else 0)
            self.prog.global_defaults.append(d)
            self.prog.global_names[key] = slot
            self.prog.nonprecious.append(slot)
            self.ctx.vars[name] = (slot, bv.type)
        return slot

    def ex_Macro(self, e):
        name = e.name
        shown = name if len(name) == 1 else "{" + name + "}"
        if self.scope is not None:
            self.prog.macros_used.setdefault(self.scope.name, set()).add(name)

        def macro(fr):
            v = fr.rt.macros.get(name)
            if v is None:
                raise MFLException("e_macroundef", f"macro not defined: {shown}")
            return v
        return macro, STRING

    def ex_Arg(self, e):
        sc = self.scope
        if e.paren:
            f, _ = self.expr(e.index)
            t = sc.func.variadic if sc and sc.func else STRING
            if t == NUMBER:
                # mailfromd 8.15 reads "" from $(n) in a `number ...' function
                return (lambda fr: (f(fr), "")[1]), STRING

            def vararg(fr):
                n = to_num(f(fr))
                va = fr.varargs
                if n < 1 or n > len(va):
                    return ""
                return va[n - 1]
            return vararg, t or STRING
        n = e.index.value

        def arg(fr):
            c = fr.catch
            if c is not None:
                return c[0] if n == 1 else c[1] if n == 2 else ""
            if sc is not None and sc.kind == "func":
                # $N in a function: the Nth actual argument, named ones included
                a = fr.args
                if n <= len(a):
                    return a[n - 1]
                va = fr.varargs
                k = n - 1 - len(a)
                return va[k] if k < len(va) else ""
            a = fr.args
            return a[n - 1] if n <= len(a) else ""
        t = STRING
        if sc is not None and sc.kind == "handler":
            from ..check.symbols import HANDLER_ARGS
            args = HANDLER_ARGS.get(sc.name, ())
            if 0 < n <= len(args):
                t = args[n - 1]
        elif sc is not None and sc.func is not None and sc.func.variadic:
            t = sc.func.variadic
        return arg, t

    def ex_ArgCount(self, e):
        return (lambda fr: fr.catch[0] if False else fr.nargs), NUMBER

    def ex_Ordinal(self, e):
        idx = self.scope.params[e.name][0]
        return (lambda fr: idx), NUMBER

    def ex_BackRef(self, e):
        n = e.number

        def backref(fr):
            m = fr.rt.match
            if m is None:
                raise RuntimeFault("no previous regular expression")
            if n >= len(m):
                raise RuntimeFault("invalid back-reference number")
            return m[n] or ""
        return backref, STRING

    def ex_VaPtr(self, e):
        """vaptr($N): the function's actual arguments from the Nth on (for getopt)."""
        x = e.expr
        if isinstance(x, A.Arg) and not x.paren:
            n = x.index.value

            def vaptr(fr):
                return list(fr.args) [n - 1:] + list(fr.varargs) if n <= len(fr.args) \
                    else list(fr.varargs)[n - 1 - len(fr.args):]
            return vaptr, "pointer"
        f, _ = self.expr(x)
        return f, "pointer"

    def ex_VarArgs(self, e):
        raise RuntimeFault("$@ outside of an argument list", e.pos)

    def ex_Cast(self, e):
        f, t = self.expr(e.expr)
        c = conv(e.type)
        if c is None:
            return f, t
        return (lambda fr: c(f(fr))), e.type

    def ex_Unary(self, e):
        f, t = self.expr(e.operand)
        op = e.op
        if op == "not":
            return (lambda fr: 0 if truth(f(fr)) else 1), NUMBER
        if op == "-":
            return (lambda fr: wrap(-to_num(f(fr)))), NUMBER
        if op == "~":
            return (lambda fr: ~to_num(f(fr))), NUMBER
        return (lambda fr: to_num(f(fr))), NUMBER

    def ex_Binary(self, e):
        lf, lt = self.expr(e.left)
        rf, rt_ = self.expr(e.right)
        op = e.op
        if op == "and":
            return (lambda fr: 1 if truth(lf(fr)) and truth(rf(fr)) else 0), NUMBER
        if op == "or":
            return (lambda fr: 1 if truth(lf(fr)) or truth(rf(fr)) else 0), NUMBER
        if op == ".":
            return (lambda fr: to_str(lf(fr)) + to_str(rf(fr))), STRING
        if op in ("=", "!=", "<", "<=", ">", ">="):
            want = NUMBER if lt == NUMBER else STRING
            lf, rf = self._as(lf, lt, want), self._as(rf, rt_, want)
            fast = _fast_cmp(op, lf, rf, e.right, want)
            if fast is not None:
                return fast, NUMBER
            cmp = _CMP[op]
            return (lambda fr: 1 if cmp(lf(fr), rf(fr)) else 0), NUMBER
        lf, rf = self._as(lf, lt, NUMBER), self._as(rf, rt_, NUMBER)
        fast = _fast_arith(op, lf, rf, e.right)
        if fast is not None:
            return fast, NUMBER
        fn = _ARITH[op]
        return (lambda fr: fn(lf(fr), rf(fr))), NUMBER

    @staticmethod
    def _as(f, have, want):
        """f converted to type want (no conversion when the static type matches)."""
        if have == want:
            return f
        c = to_num if want == NUMBER else to_str
        return lambda fr: c(f(fr))

    def ex_Match(self, e):
        lf, _ = self.expr(e.left)
        if e.mx:
            raise_mx = e.op

            def mx(fr):
                raise MFLException("e_failure", f"mx {raise_mx}: DNS is not available yet")
            return mx, NUMBER
        if e.op == "fnmatches":
            rf, _ = self.expr(e.right)
            return (lambda fr: 1 if rx.fnmatch(to_str(rf(fr)), to_str(lf(fr))) else 0), NUMBER
        flags = self.ctx.regex.flags
        if isinstance(e.right, A.Str):
            creg = rx.compile(e.right.value, flags)
            if isinstance(e.left, A.Str):
                # both literal: mailfromd folds the match at compile time and
                # records no back-references
                folded = 0 if creg.search(e.left.value) is None else 1
                return (lambda fr: folded), NUMBER

            def match_lit(fr):
                g = creg.search(to_str(lf(fr)))
                if g is None:
                    return 0
                fr.rt.match = g                  # a failed match keeps the old groups
                return 1
            return match_lit, NUMBER
        rf, _ = self.expr(e.right)

        def match_dyn(fr):
            pat = to_str(rf(fr))
            try:
                creg = rx.compile(pat, flags)
            except rx.RegexError as err:
                raise MFLException("e_regcomp", f"compiling regex `{pat}': {err.message}")
            g = creg.search(to_str(lf(fr)))
            if g is None:
                return 0
            fr.rt.match = g
            return 1
        return match_dyn, NUMBER

    def ex_Call(self, e):
        name = e.name
        if name == "void" and len(e.args) == 1:
            return self.expr(e.args[0])
        target = self.ctx.funcs.get(name)
        if target is None:
            b = R.FUNCTIONS.get(name)
            if b is None:
                raise RuntimeFault(f"undefined function `{name}'", e.pos)
            return self.builtin_call(b, e)
        return self.user_call(target, e)

    def _args(self, e, types, variadic):
        """Compile the arguments: (fixed closures, spread closure or None)."""
        fixed = []
        spread = None
        for i, a in enumerate(e.args):
            if isinstance(a, A.VarArgs):
                shift = self.expr(a.shift)[0] if a.shift is not None else None
                spread = _checked_shift(shift) if shift is not None else (lambda fr: 0)
                continue
            f, have = self.expr(a)
            t = types[i] if i < len(types) else variadic
            c = conv(t)
            if have == "pointer":
                c = None                          # vaptr(...) passes through unconverted
            fixed.append(f if c is None or have == t else (lambda fr, f=f, c=c: c(f(fr))))
        return tuple(fixed), spread

    def _note_macro_arg(self, arg) -> None:
        """getmacro("x"): the milter host asks the MTA for x; a computed name
        means the MTA's own macro lists must be kept."""
        value = getattr(arg, "value", None)
        if type(arg).__name__ == "Str" and isinstance(value, str):
            self.prog.macros_used.setdefault(
                self.scope.name if self.scope else "", set()).add(value.strip("{}"))
        else:
            self.prog.dynamic_macros = True

    def builtin_call(self, b, e):
        sig = b.sig
        types = tuple(p.type for p in sig.params)
        fixed, spread = self._args(e, types, sig.variadic)
        impl = b.impl
        name = b.name
        vc = conv(sig.variadic)
        if name == "stack_trace":
            pos = e.pos

            def trace(fr):
                fr.rt.print_trace(fr.rt.calls + [("stack_trace", pos)])
            return trace, None
        if name in ("getmacro", "macro_defined") and e.args:
            self._note_macro_arg(e.args[0])
        if impl is None:
            def planned(fr):
                raise RuntimeFault(f"built-in function `{name}' is not implemented yet")
            return planned, (None if sig.ret == R.VOID else sig.ret)

        if getattr(impl, "wants_regex_flags", False):
            rflags = self.ctx.regex.flags        # the #pragma regex flags at the call

            def call_rx(fr):
                args = [f(fr) for f in fixed]
                if spread is not None:
                    va = fr.varargs[to_num(spread(fr)):]
                    args.extend(va if vc is None else [vc(x) for x in va])
                return impl(fr.rt, *args, regex_flags=rflags)
            return call_rx, (None if sig.ret == R.VOID else sig.ret)

        def call(fr):
            args = [f(fr) for f in fixed]
            if spread is not None:
                va = fr.varargs[to_num(spread(fr)):]
                args.extend(va if vc is None else [vc(x) for x in va])
            return impl(fr.rt, *args)
        return call, (None if sig.ret == R.VOID else sig.ret)

    def user_call(self, fn: Func, e):
        fixed, spread = self._args(e, fn.params, fn.variadic)
        nparams = len(fn.params)
        fname, pos = fn.name, e.pos
        vc = conv(fn.variadic)
        default = 0 if fn.returns == NUMBER else ("" if fn.returns == STRING else None)

        def invoke(rt, args, nargs, varargs):
            new = Frame(list(fn.local_defaults), args, nargs, varargs)
            new.rt = rt
            calls = rt.calls
            if len(calls) > rt.max_depth:
                raise RuntimeFault("stack overflow (too deep recursion)")
            calls.append((fname, pos))
            rt.steps += 1
            try:
                r = fn.body(new)
            except (MFLException, RuntimeFault) as x:
                if getattr(x, "trace", None) is None:
                    x.trace = list(calls)           # where it happened, for --stack-trace
                raise
            finally:
                calls.pop()
            if r is not None and r[0] == RET:
                v = r[1]
                if type(v) is int:
                    rt.last_return = v
                return v
            return default

        if spread is None and len(fixed) <= nparams:
            n = len(fixed)

            def call_simple(fr):
                return invoke(fr.rt, [f(fr) for f in fixed], n, [])
            return call_simple, fn.returns

        def call(fr):
            vals = [f(fr) for f in fixed]
            if spread is not None:
                extra = fr.varargs[to_num(spread(fr)):]
                vals.extend(extra if vc is None else [vc(x) for x in extra])
            return invoke(fr.rt, vals[:nparams], len(vals), vals[nparams:])
        return call, fn.returns


def _ends_with_regex_literal(stmt) -> bool:
    """Is the last token of stmt the regex literal of a `matches'?"""
    last, parent = None, None
    for n in A.walk(stmt):
        if isinstance(n, A.Match) and n.op == "matches" and isinstance(n.right, A.Str):
            r = n.right
            if last is None or (r.pos[3], r.pos[4]) >= (last.pos[3], last.pos[4]):
                last, parent = r, n
    if last is None:
        return False
    end = max((n.pos[3], n.pos[4]) for n in A.walk(stmt) if n.pos)
    return (last.pos[3], last.pos[4]) == end


_POS_CONSTS = frozenset({"__file__", "__line__", "__function__", "__module__"})


_LMIN, _LMAX = -(1 << 63), (1 << 63) - 1


def _fast_arith(op, lf, rf, right):
    """Closures for the commonest arithmetic shapes (a constant right operand)."""
    if isinstance(right, A.Num):
        k = right.value
        if op == "+":
            def add_k(fr):
                v = lf(fr) + k
                return v if _LMIN <= v <= _LMAX else wrap(v)
            return add_k
        if op == "-":
            def sub_k(fr):
                v = lf(fr) - k
                return v if _LMIN <= v <= _LMAX else wrap(v)
            return sub_k
    if op == "+":
        def add(fr):
            v = lf(fr) + rf(fr)
            return v if _LMIN <= v <= _LMAX else wrap(v)
        return add
    if op == "-":
        def sub(fr):
            v = lf(fr) - rf(fr)
            return v if _LMIN <= v <= _LMAX else wrap(v)
        return sub
    return None


def _fast_cmp(op, lf, rf, right, want):
    if (isinstance(right, A.Num) and want == NUMBER) or (isinstance(right, A.Str)
                                                         and want == STRING):
        k = right.value
        if op == "<":
            return lambda fr: 1 if lf(fr) < k else 0
        if op == "=":
            return lambda fr: 1 if lf(fr) == k else 0
        if op == ">":
            return lambda fr: 1 if lf(fr) > k else 0
    return None


def _checked_shift(f):
    def shift(fr):
        n = to_num(f(fr))
        if n > len(fr.varargs) or n < 0:
            raise RuntimeFault("dupn: negative count")
        return n
    return shift


def _lt(a, b):
    return a < b


_CMP = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": _lt,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_ARITH = {"+": lambda a, b: wrap(a + b), "-": lambda a, b: wrap(a - b),
          "*": lambda a, b: wrap(a * b), "/": div, "%": mod, "<<": shl, ">>": shr,
          "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}


def compile_unit(unit, progname: str = "mfld") -> Program:
    return Compiler(unit, progname).compile()
