"""Compile-time evaluation of constant expressions (const, enum items, initializers)."""
from __future__ import annotations

from ..syntax import ast as A


class NotConstant(Exception):
    def __init__(self, pos, message: str):
        super().__init__(message)
        self.pos, self.message = pos, message


def _num(v, pos):
    if isinstance(v, int):
        return v
    s = v.strip()
    try:
        return int(s, 0) if s[:2].lower() == "0x" else int(s)
    except ValueError:
        raise NotConstant(pos, "initializer element is not numeric") from None


class ConstEval:
    """Evaluates literal and constant expressions; ``lookup(name)`` returns a ConstSym."""

    def __init__(self, lookup):
        self.lookup = lookup

    def eval(self, e):
        if isinstance(e, A.Num):
            return e.value
        if isinstance(e, A.Str):
            return e.value
        if isinstance(e, A.Var):
            c = self.lookup(e.name)
            if c is None or c.value is None:
                raise NotConstant(e.pos, "initializer element is not constant")
            return c.value
        if isinstance(e, A.Interp):
            out = []
            for p in e.parts:
                if isinstance(p, A.Str):
                    out.append(p.value)
                elif isinstance(p, A.Var):
                    out.append(str(self.eval(A.Var(p.pos, p.name))))
                else:
                    raise NotConstant(p.pos, "initializer element is not constant")
            return "".join(out)
        if isinstance(e, A.Unary):
            v = self.eval(e.operand)
            if e.op == "-":
                return -_num(v, e.pos)
            if e.op == "+":
                return _num(v, e.pos)
            if e.op == "~":
                return ~_num(v, e.pos)
            return int(not _num(v, e.pos))
        if isinstance(e, A.Cast):
            v = self.eval(e.expr)
            return str(v) if e.type == "string" else _num(v, e.pos)
        if isinstance(e, A.Binary):
            a, b = self.eval(e.left), self.eval(e.right)
            op = e.op
            if op == ".":
                return f"{a}{b}"
            if op in ("=", "!=", "<", "<=", ">", ">="):
                if isinstance(a, str):
                    b = str(b)
                else:
                    b = _num(b, e.pos)
                r = {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                     ">": a > b, ">=": a >= b}[op]
                return int(r)
            x, y = _num(a, e.pos), _num(b, e.pos)
            if op in ("/", "%") and y == 0:
                raise NotConstant(e.pos, "division by zero")
            if op == "/":
                q = abs(x) // abs(y)
                return q if (x >= 0) == (y >= 0) else -q
            if op == "%":
                r = abs(x) % abs(y)
                return r if x >= 0 else -r
            return {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
                    "<<": lambda: x << (y & 63), ">>": lambda: x >> (y & 63),
                    "&": lambda: x & y, "|": lambda: x | y, "^": lambda: x ^ y,
                    "and": lambda: int(bool(x) and bool(y)),
                    "or": lambda: int(bool(x) or bool(y))}[op]()
        raise NotConstant(e.pos, "initializer element is not constant")
