"""A small forward data-flow engine over MFL statements, for the lint warnings.

``Flow`` walks a function or handler body in execution order and carries a
*state*: a frozenset of facts that hold on **some** path ("may" analysis), or
``None`` where no path arrives (after ``return``, ``throw``, an action...).
Subclasses react to the events that interest them (``on_call`` for every call
in evaluation order, ``on_header_action``, ``on_action``) by returning a new
state.  Loops are iterated to a fixed point, so a hook may see the same node
several times: reporters must de-duplicate.

Control flow follows the manual: ``if``/``elif``/``else``, ``switch``,
``loop`` (init, while, body, step, ``done while``; ``break``/``next`` with
labels), ``try``/``catch`` (the catch body may start from the state before any
top-level statement of the try body), a standalone ``catch`` (its body runs later, on an exception, and ends
the function or handler), ``on`` and short-circuit ``and``/``or``.
"""
from __future__ import annotations

from ..syntax import ast as A

State = frozenset | None

EMPTY: frozenset = frozenset()

# How a body was left: fall-off ("end"), "return", "throw", an action's kind,
# or "catch" (the end of a standalone catch body).
NORMAL_EXITS = ("end", "return", "continue", "catch")


def join(a: State, b: State) -> State:
    if a is None:
        return b
    if b is None:
        return a
    return a | b


class Flow:
    def __init__(self):
        self.exits: list[tuple[str, frozenset]] = []
        self._loops: list[list] = []          # [label, breaks, nexts]
        self._trying: list = []               # catch lists of enclosing try statements
        self._standalone: list = []           # catch lists of standalone catches seen so far

    # ----------------------------------------------------------- hooks
    def on_call(self, call: A.Call, state: frozenset) -> State:
        return state

    def on_header_action(self, node: A.HeaderAction, state: frozenset) -> State:
        return state

    def on_action(self, node: A.Action, state: frozenset) -> None:
        pass

    # ----------------------------------------------------------- queries
    def caught(self, pred) -> bool:
        """True if an enclosing ``try`` or an earlier standalone ``catch``
        lists an exception satisfying ``pred`` (``pred(None)`` is ``catch *``)."""
        for lst in self._trying + self._standalone:
            if lst is None:
                if pred(None):
                    return True
                continue
            if any(pred(e) for e in lst):
                return True
        return False

    # ----------------------------------------------------------- engine
    def run(self, body, state: frozenset) -> State:
        """Analyse a whole function or handler body; returns the fall-off state."""
        self.exits = []
        self._loops = []
        self._trying = []
        self._standalone = []
        out = self.block(body, state)
        if out is not None:
            self.exits.append(("end", out))
        return out

    def normal_exit_state(self) -> State:
        s = None
        for kind, st in self.exits:
            if kind in NORMAL_EXITS:
                s = join(s, st)
        return s

    def block(self, stmts, s: State, trace: list | None = None) -> State:
        for st in stmts:
            if s is None:
                return None
            if trace is not None:
                trace.append(s)         # an exception in ``st`` leaves with the state before it
            s = self.stmt(st, s)
        return s

    def stmt(self, st, s: frozenset) -> State:
        m = getattr(self, "st_" + type(st).__name__, None)
        if m is None:
            return s
        return m(st, s)

    def st_Set(self, st, s):
        return self.expr(st.value, s)

    def st_VarDecl(self, st, s):
        return self.expr(st.init, s)

    def st_Echo(self, st, s):
        return self.expr(st.value, s)

    def st_ExprStmt(self, st, s):
        return self.expr(st.expr, s)

    def st_If(self, st, s):
        out = None
        for cond, body in st.branches:
            s = self.expr(cond, s)
            if s is None:
                return out
            out = join(out, self.block(body, s))
        if st.orelse is not None:
            return join(out, self.block(st.orelse, s))
        return join(out, s)

    def st_Switch(self, st, s):
        s = self.expr(st.expr, s)
        if s is None:
            return None
        out = None
        for c in st.cases:
            out = join(out, self.block(c.body, s))
        if st.default is not None:
            return join(out, self.block(st.default, s))
        return join(out, s)

    def st_On(self, st, s):
        c = st.cond
        if isinstance(c, A.Poll):
            for x in (c.email, c.host, c.ehlo, c.mailfrom):
                s = self.expr(x, s)
        else:
            s = self.expr(c, s)
        if s is None:
            return None
        out = s
        for br in st.branches:
            out = join(out, self.block(br.body, s))
        return out

    def st_Loop(self, st, s):
        s = self.block(st.init, s)
        if s is None:
            return None
        entry = s
        leave = None
        for _ in range(10):
            c = self.expr(st.cond, entry) if st.cond is not None else entry
            if st.cond is not None:
                leave = join(leave, c)
            frame = [st.label, [], []]
            self._loops.append(frame)
            b = self.block(st.body, c)
            self._loops.pop()
            for n in frame[2]:
                b = join(b, n)
            b = self.block(st.step, b)
            if st.post is not None:
                b = self.expr(st.post, b)
                leave = join(leave, b)
            for br in frame[1]:
                leave = join(leave, br)
            new = join(entry, b)
            if new == entry:
                break
            entry = new
        return leave

    def _frame(self, label):
        for f in reversed(self._loops):
            if label is None or f[0] == label:
                return f
        return None

    def st_Break(self, st, s):
        f = self._frame(st.label)
        if f is not None:
            f[1].append(s)
        return None

    def st_Next(self, st, s):
        f = self._frame(st.label)
        if f is not None:
            f[2].append(s)
        return None

    def st_Return(self, st, s):
        s = self.expr(st.value, s)
        if s is not None:
            self.exits.append(("return", s))
        return None

    def st_Throw(self, st, s):
        s = self.expr(st.message, s)
        if s is not None:
            self.exits.append(("throw", s))
        return None

    def st_Action(self, st, s):
        for x in (st.code, st.xcode, st.message):
            if x is not None and not (isinstance(x, A.Str) and not st.functional):
                s = self.expr(x, s)
        if s is None:
            return None
        self.on_action(st, s)
        self.exits.append((st.kind, s))
        return None

    def st_HeaderAction(self, st, s):
        s = self.expr(st.value, s)
        if s is None:
            return None
        return self.on_header_action(st, s)

    def st_Try(self, st, s):
        self._trying.append(st.catch.exceptions)
        trace: list = []
        out = self.block(st.body, s, trace)
        self._trying.pop()
        entry = None
        for t in trace:
            entry = join(entry, t)
        caught = self.block(st.catch.body, entry)
        return join(out, caught)

    def st_Catch(self, st, s):
        # A standalone catch: its body runs on a later exception and then
        # leaves the function or handler; the flow itself goes on.
        saved = (self.exits, self._loops)
        self._loops = []
        out = self.block(st.body, s)
        self._loops = saved[1]
        if out is not None:
            self.exits.append(("catch", out))
        self._standalone.append(st.exceptions)
        return s

    # ----------------------------------------------------------- expressions
    def expr(self, e, s: State) -> State:
        if e is None or s is None:
            return s
        if isinstance(e, A.Call):
            for a in e.args:
                s = self.expr(a, s)
                if s is None:
                    return None
            return self.on_call(e, s)
        if isinstance(e, A.Binary) and e.op in ("and", "or"):
            left = self.expr(e.left, s)
            return join(left, self.expr(e.right, left))
        for c in A.children(e):
            s = self.expr(c, s)
        return s
