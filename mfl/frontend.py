"""The front end: source file -> preprocessor -> parser -> checker, with modules.

``compile_file(path, options)`` returns a ``Unit`` holding the AST of the main
file, the checked symbol tables, every loaded module and all diagnostics.
Nothing here raises on bad input: every problem becomes a located diagnostic.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .check.checker import Checker
from .check.symbols import ModuleInfo
from .diagnostics import Diagnostics, MFLError, Span
from .syntax import ast as A
from .syntax.parser import ParseError, parse

STDLIB = Path(__file__).resolve().parent.parent / "stdlib"


@dataclass
class Options:
    include_path: list[str] = field(default_factory=list)
    module_path: list[str] = field(default_factory=list)
    defines: dict = field(default_factory=dict)
    undefines: list[str] = field(default_factory=list)
    use_m4: bool = True
    disabled_warnings: frozenset = frozenset()
    warnings: bool = True


@dataclass
class Unit:
    file: str
    program: A.Program | None
    diags: Diagnostics
    checker: Checker | None
    modules: dict = field(default_factory=dict)       # name -> (Program, Checker)

    @property
    def ok(self) -> bool:
        return not self.diags.errors


def _read_source(path: str, opts: Options, diags: Diagnostics, text: str | None = None,
                 at: Span | None = None):
    """Preprocess ``path``; return (text, lines) or None after reporting an error."""
    from . import preprocess as pp
    try:
        src = pp.preprocess(path, text=text,
                            include_path=list(opts.include_path) + [str(STDLIB)],
                            defines=opts.defines, undefines=opts.undefines,
                            use_m4=opts.use_m4)
    except MFLError as e:
        diags.add(e.diagnostic())
        for n in getattr(e, "notes", ()):
            diags.add(n)
        return None
    except OSError as e:
        diags.error(at or Span(path, 0, 0, 0, 0), f"cannot read {path}: {e.strerror}")
        return None
    for n in getattr(src, "notes", ()):
        diags.add(n)
    return src.text, getattr(src, "lines", None)


def _parse(path: str, opts: Options, diags: Diagnostics, at: Span | None = None,
           text: str | None = None) -> A.Program | None:
    got = _read_source(path, opts, diags, text, at)
    if got is None:
        return None
    src, lines = got
    try:
        return parse(src, path, lines)
    except ParseError as e:
        _report_before_syntax_error(e, path, opts, diags)
        diags.error(Span(e.file, e.line, e.col, e.end_line, e.end_col), e.message)
        return None


def _report_before_syntax_error(e: ParseError, path: str, opts: Options,
                                diags: Diagnostics) -> None:
    """mailfromd checks each definition as its parser completes it, so the semantic
    errors before a syntax error are reported too: check what was completed."""
    partial = e.partial_program()
    if partial is None or not partial.items:
        return
    sub = Diagnostics()
    unit = Unit(path, partial, sub, None)
    try:
        Checker(sub, ModuleLoader(opts, Diagnostics(), unit)).check_program(partial)
    except Exception:                    # best effort: never worse than the syntax error
        return
    for d in sub.items:
        s = d.span
        if s.file == e.file and (s.line, s.col) < (e.line, e.col) and d.severity != "note":
            diags.add(d)


class ModuleLoader:
    """Finds, compiles and caches modules for ``require`` and ``from … import``."""

    def __init__(self, opts: Options, diags: Diagnostics, unit: Unit):
        self.opts = opts
        self.d = diags
        self.unit = unit
        self.cache: dict[str, ModuleInfo | None] = {}
        self.loading: set[str] = set()

    def search_path(self) -> list[str]:
        return list(self.opts.module_path) + list(self.opts.include_path) + [str(STDLIB)]

    def find(self, name: str) -> str | None:
        fname = name if name.endswith(".mfl") else name + ".mfl"
        if os.path.isabs(fname):
            return fname if os.path.exists(fname) else None
        for d in self.search_path():
            p = os.path.join(d, fname)
            if os.path.exists(p):
                return p
        return None

    def load(self, name: str, pos) -> ModuleInfo | None:
        sp = Span(*pos) if pos else Span("<unknown>", 0, 0, 0, 0)
        if name in self.cache:
            return self.cache[name]
        if name in self.loading:
            self.d.error(sp, f"recursive require of module `{name}'")
            return None
        path = self.find(name)
        if path is None:
            self.d.error(sp, f"{name}: no such file or directory")
            self.cache[name] = None
            return None
        self.loading.add(name)
        try:
            prog = _parse(path, self.opts, self.d, sp)
            if prog is None:
                self.cache[name] = None
                return None
            mod = name
            default_public = True
            for it in prog.items:
                if isinstance(it, A.ModuleDecl):
                    mod = it.name
                    default_public = it.interface != "static"
                    break
            else:
                if prog.items:
                    first = prog.items[0].pos
                    self.d.warning(Span(first[0], first[1], first[2], first[1], first[2] + 3),
                                   "missing-module", "missing module declaration")
            chk = Checker(self.d, self, module=mod, default_public=default_public)
            chk.check_program(prog)
            mi = chk.module_info(mod, path)
            self.unit.modules[name] = (prog, chk)
            self.cache[name] = mi
            return mi
        finally:
            self.loading.discard(name)


def compile_file(path: str, opts: Options | None = None, text: str | None = None) -> Unit:
    opts = opts or Options()
    diags = Diagnostics(disabled=frozenset(opts.disabled_warnings))
    unit = Unit(path, None, diags, None)
    prog = _parse(path, opts, diags, text=text)
    if prog is None:
        return unit
    unit.program = prog
    loader = ModuleLoader(opts, diags, unit)
    chk = Checker(diags, loader)
    chk.check_program(prog)
    unit.checker = chk
    if opts.warnings and not diags.errors:
        from .check.warnings import run_warnings
        run_warnings(unit, diags)
    return unit
