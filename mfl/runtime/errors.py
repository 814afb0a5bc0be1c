"""Exceptions of the MFL run time."""
from __future__ import annotations


class MFLException(Exception):
    """An MFL exception (catchable with try/catch): a built-in one by name
    (``e_divzero``…, code from the registry) or a user one (``dclex``) by code."""

    def __init__(self, name: str | None, message: str = "", code: int | None = None):
        super().__init__(message)
        self.name = name
        self.message = message
        if code is None:
            from ..builtins.registry import EXCEPTIONS
            code = EXCEPTIONS.get(name, 2)          # unknown names count as e_failure
        self.code = code


class RuntimeFault(Exception):
    """A run-time error that is not an MFL exception (stack overflow, budget
    exhausted, an internal error): the filter stops, the MTA gets tempfail."""

    def __init__(self, message: str, pos=None):
        super().__init__(message)
        self.message = message
        self.pos = pos
