"""The checker: names, types, arity, handler and return rules.  This *is* the linter.

It walks the AST once, in source order (MFL requires a name to be defined
before it is used), reports every error it finds (never only the first) with
mailfromd's wording where mailfromd has one, and records what later stages
need (the resolved symbols).  Warnings that mailfromd does not give live in
``mfl.check.warnings`` and run over the same tables.
"""
from __future__ import annotations

import re

from .. import regex as rx
from ..builtins import registry as R
from ..diagnostics import NOTE, Diagnostic, Diagnostics, Span
from ..syntax import ast as A
from .consts import ConstEval, NotConstant
from .symbols import (HANDLER_ARGS, NUMBER, SPECIAL_HANDLERS, STRING, ConstSym, FuncSym,
                      ModuleInfo, VarSym)

REPLY_ACTIONS = ("accept", "continue", "discard", "reject", "tempfail")


def span(pos) -> Span:
    if pos is None:
        return Span("<unknown>", 0, 0, 0, 0)
    f, l, c, el, ec = pos
    return Span(f, l, c, el, ec)


class Scope:
    """Local names of one function or handler."""

    def __init__(self, kind: str, name: str, func: FuncSym | None = None):
        self.kind = kind                  # "func" | "handler"
        self.name = name
        self.func = func
        self.vars: dict[str, VarSym] = {}
        self.consts: dict[str, ConstSym] = {}
        self.loops: list[str | None] = []
        self.in_catch = 0
        self.variadic = func.variadic if func else None
        self.restrict: frozenset | None = None    # handlers allowed by the calls made
        self.uninit: set = set()                  # locals declared without a value, not yet set


class Checker:
    def __init__(self, diags: Diagnostics, loader=None, module: str = "",
                 default_public: bool = True):
        self.d = diags
        self.loader = loader
        self.module = module
        self.default_public = default_public
        self.funcs: dict[str, FuncSym] = {}
        self.vars: dict[str, VarSym] = {}
        self.consts: dict[str, ConstSym] = {}
        self.handlers: dict[str, A.Handler] = {}
        self.scope: Scope | None = None
        self.handler: str | None = None
        self.user_funcs: list[FuncSym] = []
        self.user_vars: list[VarSym] = []
        self.required: dict[str, ModuleInfo] = {}
        # Recorded for mfl.check.warnings only (no effect on checking):
        self.scopes: list[tuple[A.Node, Scope]] = []   # (FuncDef|Handler, its Scope)
        self.var_reads: set[int] = set()                # id() of every VarSym read
        self.ceval = ConstEval(self._const_value)
        self.regex_state = rx.PragmaState()
        self._install_builtins()

    # ------------------------------------------------------------ set-up
    def _install_builtins(self) -> None:
        for b in R.FUNCTIONS.values():
            s = b.sig
            self.funcs[s.name] = FuncSym(
                s.name, tuple((p.type, p.name, p.optional) for p in s.params),
                s.variadic, None if s.ret == R.VOID else s.ret, None, "", True, b, b.handlers)
        for v in R.VARIABLES.values():
            self.vars[v.name] = VarSym(v.name, v.type, None, "builtin")
        for c in R.CONSTANTS.values():
            if c.name in R.EXCEPTIONS:
                continue            # exceptions are declared by `require status' (dclex)
            self.consts[c.name] = ConstSym(c.name, c.type, c.value, None)

    def next_exception_code(self) -> int:
        """dclex numbers exceptions in declaration order, program-wide, from 0."""
        holder = self.loader if self.loader is not None else self
        code = getattr(holder, "exception_counter", 0)
        holder.exception_counter = code + 1
        return code

    def error(self, pos, msg: str) -> None:
        self.d.error(span(pos), msg)

    def warn(self, pos, code: str, msg: str) -> None:
        self.d.warning(span(pos), code, msg)

    # ------------------------------------------------------------ program
    def check_program(self, prog: A.Program) -> None:
        self.next_pos = getattr(prog, "next_token", None)
        for i, item in enumerate(prog.items):
            if isinstance(item, A.ModuleDecl) and any(
                    not isinstance(x, A.Pragma) for x in prog.items[:i]):
                self.error(item.pos, "misplaced `module'")
            try:
                self.top(item)
            except RecursionError:
                # e.g. an expression of thousands of terms: a diagnostic, not a crash
                self.scope = None
                self.handler = None
                self.error(item.pos, "expressions or statements nested too deeply")

    def _module_loaded(self, name: str) -> bool:
        if name in self.required:
            return True
        cache = getattr(self.loader, "cache", None) or {}
        return cache.get(name) is not None

    def module_info(self, name: str, file: str) -> ModuleInfo:
        mi = ModuleInfo(name, file)
        for f in self.user_funcs:
            if f.public:
                mi.funcs[f.name] = f
        for v in self.user_vars:
            if v.public and v.kind == "global":
                mi.vars[v.name] = v
        for c in self.consts.values():
            if c.pos is not None and c.module == self.module and c.public:
                mi.consts[c.name] = c
        return mi

    def top(self, item) -> None:
        m = getattr(self, "top_" + type(item).__name__, None)
        if m is None:
            self.error(item.pos, f"unexpected {type(item).__name__} at top level")
            return
        m(item)

    def top_Pragma(self, p: A.Pragma) -> None:
        self.pragma(p)

    def pragma(self, p: A.Pragma) -> None:
        if not p.words:
            return                  # mailfromd accepts a bare "#pragma"
        name = p.words[0]
        if name not in ("regex", "stacksize", "prereq", "dbprop", "greylist",
                        "miltermacros", "provide-callout"):
            self.error(p.pos, f"unknown pragma `{name}'")
            return
        if name == "prereq" and len(p.words) > 1:
            want = _version_tuple(p.words[1])
            if want is None:
                self.error(p.pos, f"invalid version number: {p.words[1]}")
            elif want > (8, 15, 0):
                self.error(p.pos, f"this source file requires mailfromd version {p.words[1]} or later,")
                self.d.add(Diagnostic(span(p.pos), "but you use version 8.15", NOTE))
        if name == "stacksize" and len(p.words) > 4:
            self.error(p.pos, "too many arguments in pragma")
        if name == "dbprop" and len(p.words) > 2:
            for w in p.words[2:]:
                if set(w) <= set("rwx-") and len(w) != 9:
                    self.error(p.pos, "bad symbolic file mode (near )")
        if name == "regex":
            msg = self.regex_state.apply(p.words[1:])
            if msg:
                self.error(p.pos, msg)
        if name == "miltermacros" and len(p.words) > 1 and p.words[1] not in HANDLER_ARGS:
            self.error(p.pos, f"unknown smtp state tag: {p.words[1]}")

    def _public(self, quals) -> bool:
        if "static" in quals:
            return False
        if "public" in quals:
            return True
        return self.default_public

    def _through_done(self, node):
        """A definition's span up to its closing `done' (as bison locates it)."""
        nt = getattr(self, "next_pos", None)
        if nt is None or not node.body:
            return node.pos
        last = node.body[-1].pos
        d = nt(last)
        return node.pos[:3] + (d[3], d[4])

    def _qualifiers(self, pos, quals) -> None:
        if "static" in quals and "public" in quals:
            nt = getattr(self, "next_pos", None)
            where = nt.before(pos) if hasattr(nt, "before") else pos
            self.error(where, "`static' and `public' used together")

    def top_VarDecl(self, v: A.VarDecl) -> None:
        self._qualifiers(v.pos, v.qualifiers)
        if v.init is not None:
            self.expr(v.init)
            self._global_const(v.init)
        self.declare_global(v.name, v.type, v.name_pos or v.pos, v.qualifiers)

    def declare_global(self, name, typ, pos, quals=()) -> VarSym:
        self._name_free(name, pos, "variable")
        old = self.vars.get(name)
        if old is not None and old.kind != "builtin" and old.type != typ:
            self.error(pos, f"redeclaring `{name}' as different data type")
            self.d.add(Diagnostic(span(old.pos), "this is the location of the previous definition",
                                  NOTE))
        c = self.consts.get(name)
        if c is not None and c.pos is not None:
            self.warn(pos, "shadow", f"Variable name `{name}' clashes with a constant name")
        sym = VarSym(name, typ, pos, "global", self.module, self._public(quals),
                     "precious" in quals)
        if old is not None and old.kind == "builtin":
            sym = old
            old.type = typ
            return old
        self.vars[name] = sym
        self.user_vars.append(sym)
        return sym

    def _global_const(self, e) -> None:
        try:
            self.ceval.eval(e)
        except NotConstant as err:
            self.error(err.pos or e.pos, "initializer element is not constant"
                       if "numeric" not in err.message else err.message)

    def top_Set(self, s: A.Set) -> None:
        t = self.expr(s.value)
        self._global_const(s.value)
        sym = self.vars.get(s.name)
        if sym is None:
            self.declare_global(s.name, t or STRING, s.name_pos or s.pos)
        else:
            sym.used = True
            if sym.kind == "global" and t is not None and t != sym.type:
                self.error(s.name_pos or s.pos, f"redeclaring `{s.name}' as different data type")
                self.d.add(Diagnostic(span(sym.pos), "this is the location of the previous definition",
                                      NOTE))

    def top_ConstDecl(self, c: A.ConstDecl, prev=None) -> object:
        value = None
        typ = NUMBER
        if c.value is not None:
            self.expr(c.value)
            try:
                value = self.ceval.eval(c.value)
            except NotConstant as e:
                self.error(e.pos or c.value.pos, e.message)
                value = 0
        elif c.enum:
            if prev is None:
                value = 0
            elif isinstance(prev, int):
                value = prev + 1
            else:
                self.error(self._after(c), "initializer element is not numeric")
                value = 0
        typ = STRING if isinstance(value, str) else NUMBER
        self.define_const(c.name, typ, value, c.pos, c.qualifier)
        return value

    def define_const(self, name, typ, value, pos, qualifier=None) -> None:
        old = self.consts.get(name)
        if old is not None and old.pos is not None:
            # mailfromd replaces a constant's name by its value while reading: the
            # second definition reads "const 1 2", a syntax error
            self.error(pos, f"constant `{name}' is already defined")
        elif name in self.vars and self.vars[name].kind != "builtin":
            self.warn(pos, "shadow", f"Constant name `{name}' clashes with a variable name")
        pub = self._public((qualifier,) if qualifier else ())
        target = self.scope.consts if self.scope else self.consts
        target[name] = ConstSym(name, typ, value, pos, self.module, pub)

    def top_ConstEnum(self, e: A.ConstEnum) -> None:
        prev = None
        for item in e.items:
            prev = self.top_ConstDecl(item, prev)

    def _name_free(self, name, pos, what) -> None:
        """A name mailfromd's lexer would not read as an identifier (a constant's
        name reads as its value, a built-in's as a function)."""
        c = self.lookup_const(name)
        if c is not None and c.pos is not None:
            self.error(pos, f"{what} name `{name}' is already a constant")
        elif what != "function" and name in self.funcs:
            self.error(pos, f"{what} name `{name}' is already a function")

    def top_Dclex(self, d: A.Dclex) -> None:
        if d.name in self.consts and self.consts[d.name].pos is not None:
            self.error(d.pos, f"`{d.name}' redefined")
            return
        code = self.next_exception_code()
        self.consts[d.name] = ConstSym(d.name, NUMBER, code, d.pos, self.module,
                                       self.default_public, exception=True)

    def top_ModuleDecl(self, m: A.ModuleDecl) -> None:
        if m.interface == "static":
            self.default_public = False

    def top_Require(self, r: A.Require) -> None:
        self.require(r.module, r.pos)

    def require(self, name, pos) -> ModuleInfo | None:
        if name in self.required:
            return self.required[name]
        if self.loader is None:
            self.error(pos, f"{name}: no such file or directory")
            return None
        mi = self.loader.load(name, pos)
        if mi is None:
            return None
        self.required[name] = mi
        for f in mi.funcs.values():
            old = self.funcs.get(f.name)
            if old is not None and old is not f and old.builtin is None and old.module != f.module:
                self.error(pos, f"symbol import conflict: {f.name}")
            self.funcs[f.name] = f
        for v in mi.vars.values():
            self.vars.setdefault(v.name, v)
        for c in mi.consts.values():
            self.consts[c.name] = c
        return mi

    def top_FromImport(self, fi: A.FromImport) -> None:
        import re
        mi = self.loader.load(fi.module, fi.pos) if self.loader else None
        if mi is None:
            if self.loader is None:
                self.error(fi.pos, f"{fi.module}: no such file or directory")
            return
        for pat in fi.names:
            if pat.startswith("/"):
                body = pat[1:]
                k = body.find("/")
                rx, sexpr = (body[:k], body[k + 1:]) if k >= 0 else (body, "")
                try:
                    creg = re.compile(rx)
                except re.error:
                    self.error(fi.pos, f"invalid regular expression in import: {pat}")
                    continue
                names = [n for tbl in (mi.funcs, mi.vars, mi.consts) for n in tbl if creg.search(n)]
                for n in names:
                    self._import_one(mi, n, _apply_sexpr(sexpr, n), fi.pos)
            else:
                if not any(pat in tbl for tbl in (mi.funcs, mi.vars, mi.consts)):
                    self.warn(fi.pos, "import-nothing",
                              f"module {fi.module} has no public symbol `{pat}'")
                    continue
                self._import_one(mi, pat, pat, fi.pos)

    def _import_one(self, mi, name, alias, pos):
        if name in mi.funcs:
            f = mi.funcs[name]
            if alias != name:
                f = FuncSym(alias, f.params, f.variadic, f.returns, f.pos, f.module, True,
                            f.builtin, f.handlers)
            self.funcs[alias] = f
        if name in mi.vars:
            self.vars.setdefault(alias, mi.vars[name])
        if name in mi.consts:
            self.consts[alias] = mi.consts[name]

    # ------------------------------------------------------------ functions
    def top_FuncDef(self, fd: A.FuncDef) -> None:
        old = self.funcs.get(fd.name)
        if old is not None and old.builtin is None and old.module == self.module:
            self.error(fd.name_pos or fd.pos, f"redefinition of function `{fd.name}'")
        elif old is not None and old.builtin is not None:
            self.error(fd.name_pos or fd.pos, f"redefinition of built-in function `{fd.name}'")
        self._name_free(fd.name, fd.name_pos or fd.pos, "function")
        for i, al in enumerate(fd.aliases):
            if al in self.funcs:
                where = fd.alias_pos[i] if i < len(fd.alias_pos) else fd.pos
                self.error(where, f"alias `{al}' is already a function name")
        public = self._public((fd.qualifier,) if fd.qualifier else ())
        params = tuple((p.type, p.name, p.optional) for p in fd.params)
        sym = FuncSym(fd.name, params, fd.variadic, fd.returns, fd.name_pos or fd.pos,
                      self.module, public)
        seen = set()
        for p in fd.params:
            if not p.name:
                self.warn(p.pos, "unnamed-parameter", "unnamed formal parameters are deprecated")
                continue
            self._name_free(p.name, p.pos, "parameter")
            if p.name in self.vars and self.vars[p.name].kind == "global":
                col = p.pos[4] - len(p.name) + 1
                self.warn((p.pos[0], p.pos[3], col, p.pos[3], col), "shadow",
                          f"parameter `{p.name}' is shadowing a global")
            if p.name in seen:
                self.error(p.pos, f"duplicate parameter: {p.name}")
            seen.add(p.name)
        # a function is visible inside its own body (recursion) and from here on
        self.funcs[fd.name] = sym
        for al in fd.aliases:
            self.funcs[al] = sym
        self.user_funcs.append(sym)
        sc = Scope("func", fd.name, sym)
        for i, p in enumerate(fd.params):
            sc.vars[p.name] = VarSym(p.name, p.type, p.pos, "param", index=i, optional=p.optional)
        self.scope = sc
        self.scopes.append((fd, sc))
        self.block(fd.body)
        if sc.restrict is not None:
            sym.handlers = frozenset(sc.restrict)
        self.scope = None

    def top_Handler(self, h: A.Handler) -> None:
        if h.name not in HANDLER_ARGS or h.name == "action":
            self.error(h.name_pos or h.pos, f"unknown smtp state tag: {h.name}")
        if h.legacy:
            self.warn(h.pos, "deprecated",
                      f"this syntax is deprecated; use `prog {h.name}' instead")
        if h.name in self.handlers and h.name not in SPECIAL_HANDLERS:
            prev = self.handlers[h.name]
            self.warn(self._through_done(h), "redefined-handler",
                      f"redefinition of handler `{h.name}'")
            self.warn(self._through_done(prev), "redefined-handler",
                      "this is the location of the previous definition")
        else:
            self.handlers[h.name] = h          # the first definition is the one that runs
        self.scope = Scope("handler", h.name)
        self.scopes.append((h, self.scope))
        self.handler = h.name
        self.block(h.body)
        self.scope = None
        self.handler = None

    # ------------------------------------------------------------ statements
    def block(self, stmts) -> None:
        for s in stmts:
            m = getattr(self, "st_" + type(s).__name__, None)
            if m is None:
                self.error(s.pos, f"unexpected {type(s).__name__}")
            else:
                m(s)

    def st_Pragma(self, p):
        self.pragma(p)

    def st_ConstDecl(self, c):
        self.top_ConstDecl(c)

    def st_Set(self, s: A.Set) -> None:
        t = self.expr(s.value)
        sym = self.lookup_var(s.name)
        if sym is not None and self.scope is not None:
            self.scope.uninit.discard(id(sym))
        if sym is None:
            if s.name in self.consts or (self.scope and s.name in self.scope.consts):
                self.error(s.name_pos or s.pos, f"cannot assign to constant `{s.name}'")
                return
            self.scope.vars[s.name] = VarSym(s.name, t or STRING, s.name_pos or s.pos, "local")
        elif sym.kind == "builtin" and sym.name in ("rcpt_count",):
            pass

    def st_VarDecl(self, v: A.VarDecl) -> None:
        if v.init is not None:
            self.expr(v.init)
        if v.name in self.scope.vars and self.scope.vars[v.name].kind == "local":
            self.error(v.name_pos or v.pos, f"duplicate variable: {v.name}")
        elif v.name in self.scope.vars and self.scope.vars[v.name].kind == "param":
            self.warn(v.name_pos or v.pos, "shadow", f"variable `{v.name}' shadows a parameter")
        elif v.name in self.vars and self.vars[v.name].kind == "global":
            np = v.name_pos or v.pos
            self.warn(np[:3] + np[1:3], "shadow",
                      f"automatic variable `{v.name}' is shadowing a global")
        sym = VarSym(v.name, v.type, v.name_pos or v.pos, "local")
        self.scope.vars[v.name] = sym
        if v.init is None:
            self.scope.uninit.add(id(sym))

    def st_If(self, s: A.If) -> None:
        for cond, body in s.branches:
            self.expr(cond)
            self.block(body)
        if s.orelse is not None:
            self.block(s.orelse)

    def st_Switch(self, s: A.Switch) -> None:
        t = self.expr(s.expr)
        for c in s.cases:
            for v in c.values:
                self.case_value(v)
                if t == NUMBER and isinstance(v, A.Str) and not _NUMERIC.match(v.value):
                    self.error(c.pos, f"cannot convert {v.value} to number")
            self.block(c.body)
        if s.default is not None:
            self.block(s.default)

    def case_value(self, v) -> None:
        if isinstance(v, A.Var):
            if self.lookup_const(v.name) is None:
                self.error(v.pos, f"`{v.name}' is not a constant")
            else:
                self.lookup_const(v.name).used = True

    def st_Loop(self, s: A.Loop) -> None:
        self.block(s.init)
        if s.cond is not None:
            self.expr(s.cond)
        self.scope.loops.append(s.label)
        self.block(s.step)
        self.block(s.body)
        self.scope.loops.pop()
        if s.post is not None:
            self.expr(s.post)

    def _loop_ctl(self, s, word):
        if s.label is not None:
            if s.label not in self.scope.loops:
                self.error(s.pos, f"no such loop: {s.label}")
        if not self.scope.loops:
            if word == "next":
                self.error(s.pos, "`next' is used outside `loop'; did you mean `pass'?")
            else:
                self.error(s.pos, f"`{word}' used outside of `loop'")

    def st_Break(self, s):
        self._loop_ctl(s, "break")

    def st_Next(self, s):
        self._loop_ctl(s, "next")

    def st_Return(self, s: A.Return) -> None:
        sc = self.scope
        if sc.kind == "handler":
            self.error(s.pos, "`return' outside of a function")
            if s.value is not None:
                self.expr(s.value)
            return
        if s.value is not None:
            self.expr(s.value)
        if sc.kind == "func":
            if sc.func.returns is None and s.value is not None:
                self.error(s.pos, "`return' with a value, in function returning void")
            elif sc.func.returns is not None and s.value is None:
                self.error(s.pos, "`return' with no value, in function returning non-void")

    def st_Try(self, s: A.Try) -> None:
        self.block(s.body)
        self.st_Catch(s.catch)

    def st_Catch(self, c: A.Catch) -> None:
        if c.exceptions is not None:
            for e in c.exceptions:
                self.exception_ref(e)
        self.scope.in_catch += 1
        saved = self.scope.loops
        self.scope.loops = [] if c.standalone else saved
        self.block(c.body)
        self.scope.loops = saved
        self.scope.in_catch -= 1

    def exception_ref(self, e) -> None:
        if isinstance(e, A.Var):
            c = self.lookup_const(e.name)
            if c is None:
                self.error(e.pos, f"`{e.name}' is not an exception")
            else:
                c.used = True
        elif isinstance(e, A.Num):
            pass
        else:
            self.error(e.pos, "exception code must be a constant")

    def st_Throw(self, t: A.Throw) -> None:
        if isinstance(t.code, A.Num):
            if not any(c.exception and c.value == t.code.value for c in self.consts.values()):
                self.error(t.code.pos, f"invalid exception number: {t.code.value}")
        else:
            self.exception_ref(t.code)
        if t.message is not None:
            self.expr(t.message)

    def st_Pass(self, s):
        pass

    def st_Echo(self, e: A.Echo) -> None:
        self.expr(e.value)

    def st_On(self, o: A.On) -> None:
        if isinstance(o.cond, A.Poll):
            p = o.cond
            if not self._module_loaded("poll"):
                self.error(o.pos, "`on poll' used without prior `require poll'")
            if p.email is None:
                self.error(p.pos, "poll: missing email address")
            for x in (p.email, p.host, p.ehlo, p.mailfrom):
                if x is not None:
                    self.expr(x)
        else:
            self.expr(o.cond, value_needed=True)
        for br in o.branches:
            for v in br.values:
                self.case_value(v)
            self.block(br.body)

    def st_Action(self, a: A.Action) -> None:
        sc = self.scope
        if sc.kind == "handler" and sc.name in ("begin", "end") and not sc.in_catch:
            self.error(a.pos, f"Sendmail action is not allowed in {sc.name} block")
        if a.kind in ("accept", "continue", "discard"):
            if a.code is not None or a.xcode is not None or a.message is not None:
                self.warn(self._after(a.message or a.xcode or a.code), "ignored-args",
                          f"arguments are ignored for {a.kind}")
            return
        if a.functional:
            for x in (a.code, a.xcode, a.message):
                if x is not None:
                    self.expr(x)
            return
        want = "5" if a.kind == "reject" else "4"
        if a.code is not None:
            code = a.code.value
            if len(code) != 3 or not code.isdigit():
                self.error(a.code.pos, "invalid SMTP reply code")
            elif not code.startswith(want):
                self.error(a.pos, f"{a.kind} code should be {want}xx")
        if a.xcode is not None and not a.xcode.value.startswith(want + "."):
            self.error(a.pos, f"{a.kind} extended code should be {want}.x.x")
        if a.message is not None:
            self.expr(a.message)

    def st_HeaderAction(self, h: A.HeaderAction) -> None:
        sc = self.scope
        if sc.kind == "handler" and sc.name == "end":
            self.error(h.pos, f"header action is not allowed in {sc.name} block")
        if h.value is not None:
            self.expr(h.value)

    def st_ExprStmt(self, s: A.ExprStmt) -> None:
        e = s.expr
        if isinstance(e, A.Cast) and e.type == "void":
            self.expr(e.expr)
            return
        self.expr(e, value_needed=False)

    # ------------------------------------------------------------ names
    def lookup_var(self, name) -> VarSym | None:
        sc = self.scope
        if sc is not None:
            v = sc.vars.get(name)
            if v is not None:
                return v
        return self.vars.get(name)

    def lookup_const(self, name) -> ConstSym | None:
        sc = self.scope
        if sc is not None and name in sc.consts:
            return sc.consts[name]
        return self.consts.get(name)

    def _const_value(self, name):
        c = self.lookup_const(name)
        if c is None:
            return None
        c.used = True
        return c

    # ------------------------------------------------------------ expressions
    def expr(self, e, value_needed: bool = True) -> str | None:
        """Check an expression; return its type (string/number) or None for void."""
        m = getattr(self, "ex_" + type(e).__name__)
        return m(e, value_needed) if m.__code__.co_argcount == 3 else m(e)

    def ex_Num(self, e):
        return NUMBER

    def ex_Str(self, e):
        return STRING

    def ex_Interp(self, e):
        for p in e.parts:
            if not isinstance(p, A.Str):
                self.expr(p)
        return STRING

    def ex_Var(self, e: A.Var):
        if e.percent:
            # %name: the last defined of variable and constant
            v = self.lookup_var(e.name)
            c = self.lookup_const(e.name)
            if v is not None:
                v.used = True
                self.var_reads.add(id(v))
                return v.type
            if c is not None:
                c.used = True
                return c.type
            self.error(e.pos, f"variable {e.name} is not defined")
            return STRING
        v = self.lookup_var(e.name)
        if v is not None:
            v.used = True
            self.var_reads.add(id(v))
            if self.scope is not None and id(v) in self.scope.uninit:
                self.scope.uninit.discard(id(v))
                self.warn(e.pos[:3] + e.pos[1:3], "uninitialized",
                          f"use of uninitialized variable '{e.name}'")
            return v.type
        c = self.lookup_const(e.name)
        if c is not None:
            c.used = True
            return c.type
        if e.name in self.funcs:
            self.error(e.pos, f"`{e.name}' is a function, not a variable (missing parentheses?)")
        else:
            self.error(e.pos, f"undefined variable `{e.name}'")
        return STRING

    def ex_Macro(self, e: A.Macro):
        sc = self.scope
        if sc is None:
            self.error(e.pos, "Sendmail macro used outside of a handler or function")
        return STRING

    def ex_Arg(self, e: A.Arg):
        sc = self.scope
        if sc is None:
            self.error(e.pos, "positional argument used outside of a handler or function")
            return STRING
        if e.paren:
            self.expr(e.index)
            if not sc.variadic:
                self.error(e.pos, "$(expr) is allowed only in a function with variable number of arguments")
            return sc.variadic or STRING
        n = e.index.value
        if sc.in_catch:
            return NUMBER if n == 1 else STRING
        if sc.kind == "handler":
            args = HANDLER_ARGS.get(sc.name, ())
            if n < 1 or n > len(args):
                self.error(e.pos, "argument number too high")
                return STRING
            return args[n - 1]
        params = sc.func.params if sc.func else ()
        if n <= len(params):
            return params[n - 1][0]
        if not sc.variadic:
            self.error(e.pos, "argument number too high")
            return STRING
        return sc.variadic

    def ex_ArgCount(self, e):
        if self.scope is None or self.scope.kind != "func":
            if not (self.scope and self.scope.in_catch):
                self.error(e.pos, "$# used outside of a function")
        return NUMBER

    def ex_Ordinal(self, e: A.Ordinal):
        v = self.scope.vars.get(e.name) if self.scope else None
        if v is None or v.kind != "param":
            self.error(e.pos, f"`{e.name}' is not a parameter")
        return NUMBER

    def ex_BackRef(self, e):
        return STRING

    def ex_VarArgs(self, e: A.VarArgs):
        if self.scope is None or not self.scope.variadic:
            self.error(e.pos, "$@ is allowed only in variadic functions")
        if e.shift is not None:
            self.expr(e.shift)
        return STRING

    def ex_VaPtr(self, e):
        self.expr(e.expr)
        return NUMBER

    def ex_Cast(self, e: A.Cast):
        t = self.expr(e.expr)
        if t is None:
            self.error(e.pos, "unspecified value not ignored as it should be")
        return e.type

    def _after(self, node):
        """Where mailfromd reports a conversion error: its parser's next token."""
        nt = getattr(self, "next_pos", None)
        return nt(node.pos) if nt else node.pos

    def _numeric_literal(self, e, where) -> None:
        """A constant string where a number is needed: mailfromd folds constant
        expressions at compile time and fails to convert the result."""
        if isinstance(e, A.Str):
            value = e.value
        elif isinstance(e, (A.Binary, A.Interp)) and not isinstance(e, A.Var):
            try:
                value = self.ceval.eval(e)
            except NotConstant:
                return
        else:
            return
        if isinstance(value, str) and not _NUMERIC.match(value) and value != "":
            self.error(self._after(where), "cannot convert literal to number")

    def ex_Unary(self, e: A.Unary):
        self.value(e.operand)
        if e.op != "not":
            self._numeric_literal(e.operand, e)
        return NUMBER

    def ex_Binary(self, e: A.Binary):
        lt = self.value(e.left)
        self.value(e.right)
        if e.op == ".":
            return STRING
        if e.op in ("=", "!=", "<", "<=", ">", ">=") and lt == NUMBER:
            self._numeric_literal(e.right, e)
        if e.op in _ARITH:
            self._numeric_literal(e.left, e)
            self._numeric_literal(e.right, e)
            if e.op in ("/", "%") and isinstance(e.right, A.Num) and e.right.value == 0:
                self.error(e.pos[:3] + e.pos[1:3], "division by zero")
        return NUMBER

    def ex_Match(self, e: A.Match):
        self.value(e.left)
        self.value(e.right)
        if e.op == "matches" and isinstance(e.right, A.Str):
            try:
                rx.compile(e.right.value, self.regex_state.flags)
            except rx.RegexError as err:
                p = e.right.pos
                self.error((p[0], p[1], 0, p[1], 0), f"error: Cannot compile regex: {err.message}")
        return NUMBER

    def _fold_check(self, e) -> None:
        """mailfromd evaluates sed expressions and intervals given as literals when
        it compiles the script: their errors are compile errors."""
        if e.name == "sed":
            from ..builtins.strings import sed_check
            for a in e.args[1:]:
                if isinstance(a, A.Str):
                    msg = sed_check(a.value, self.regex_state.flags)
                    if msg:
                        self.error(a.pos, msg)
        elif e.name == "interval" and e.args and isinstance(e.args[0], A.Str):
            from ..runtime.errors import MFLException
            b = R.FUNCTIONS.get("interval")
            if b is not None and b.impl is not None:
                try:
                    b.impl(None, e.args[0].value)
                except MFLException as err:
                    self.error(e.pos, err.message.removeprefix("interval: "))
                except Exception:
                    pass

    def value(self, e):
        t = self.expr(e)
        if t is None:
            self.error(e.pos, "unspecified value not ignored as it should be")
            return STRING
        return t

    def ex_Call(self, e: A.Call, value_needed: bool = True):
        f = self.funcs.get(e.name)
        if f is None and e.name == "void" and len(e.args) == 1:
            self.expr(e.args[0], value_needed=False)      # void(expr): discard the value
            if value_needed:
                self.error(e.pos, "void(...) cannot be used as a value")
            return STRING
        if f is None:
            for a in e.args:
                self.expr(a)
            self.error(e.pos, f"undefined function `{e.name}'")
            return STRING
        f.used = True
        nargs = len(e.args)
        spread = bool(e.args) and isinstance(e.args[-1], A.VarArgs)
        for i, a in enumerate(e.args):
            if isinstance(a, A.VarArgs):
                if a is not e.args[-1]:
                    self.error(a.pos, "$@ must be the last argument")
                self.expr(a)
                continue
            self.value(a)
            ptype = f.params[i][0] if i < len(f.params) else f.variadic
            if ptype == NUMBER:
                self._numeric_literal(a, a)
        if spread:
            if not f.variadic:
                self.error(e.pos, f"`{e.name}' is not variadic: $@ cannot be passed to it")
            nargs -= 1
            if nargs < f.min_args:
                self.error(e.pos, f"too few arguments in call to `{e.name}'")
        else:
            if nargs < f.min_args:
                self.error(e.pos, f"too few arguments in call to `{e.name}'")
            elif f.max_args is not None and nargs > f.max_args:
                self.error(e.pos, f"too many arguments in call to `{e.name}'")
        if f.handlers is not None and self.scope is not None:
            sc = self.scope
            if sc.kind == "handler":
                if sc.name not in f.handlers:
                    what = "built-in function" if f.builtin is not None else "function"
                    self.error(e.pos, f"{what} `{e.name}' cannot be used in prog `{sc.name}'")
            else:
                sc.restrict = f.handlers if sc.restrict is None else sc.restrict & f.handlers
        if f.builtin is not None and e.name in ("sed", "interval"):
            self._fold_check(e)
        if value_needed and f.returns is None:
            self.error(e.pos, "unspecified value not ignored as it should be")
        if not value_needed and f.returns is not None and f.builtin is None:
            pass
        return f.returns


_ARITH = frozenset({"+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"})
_NUMERIC = re.compile(r"\s*[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]+)\s*\Z")


def _version_tuple(s: str):
    parts = s.split(".")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        return None
    while len(nums) < 3:
        nums.append(0)
    return tuple(nums[:3])


def _apply_sexpr(sexpr: str, name: str) -> str:
    """Apply a sed-like s/re/repl/ to an imported name (from M import '/re/s/x/y/')."""
    import re
    if not sexpr or not sexpr.startswith("s"):
        return name
    delim = sexpr[1:2]
    parts = sexpr[2:].split(delim)
    if len(parts) < 2:
        return name
    rx, repl = parts[0], parts[1].replace("&", r"\g<0>")
    flags = parts[2] if len(parts) > 2 else ""
    return re.sub(rx, repl, name, count=0 if "g" in flags else 1)
