"""Source locations and diagnostics, shared by every stage of the pipeline.

A diagnostic prints as mailfromd prints it: ``FILE:LINE.COL-ENDCOL: message``
(``FILE:LINE.COL-ENDLINE.ENDCOL`` when the span covers several lines).
Columns are 1-based; ``end_col`` is the column of the last character.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        if self.col == 0:                     # a line-only location
            return f"{self.file}:{self.line}"
        if self.end_line == self.line:
            if self.end_col <= self.col:
                return f"{self.file}:{self.line}.{self.col}"
            return f"{self.file}:{self.line}.{self.col}-{self.end_col}"
        return f"{self.file}:{self.line}.{self.col}-{self.end_line}.{self.end_col}"


NOWHERE = Span("<builtin>", 0, 0, 0, 0)

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    span: Span
    message: str
    severity: str = ERROR
    code: str = ""          # warning name (e.g. "unused-variable"); "" for errors

    def format_gnu(self) -> str:
        """mfl's format: FILE:LINE.COL: error: message [-Wname]."""
        sev = self.severity
        tail = f" [-W{self.code}]" if self.code and sev == WARNING else ""
        return f"{self.span}: {sev}: {self.message}{tail}"

    def format_mailfromd(self) -> str:
        """mailfromd's format: FILE:LINE.COL-END: message (warnings say 'warning:')."""
        if self.severity == WARNING:
            return f"{self.span}: warning: {self.message}"
        return f"{self.span}: {self.message}"

    def as_json(self) -> dict:
        s = self.span
        return {
            "file": s.file, "line": s.line, "column": s.col,
            "end_line": s.end_line, "end_column": s.end_col,
            "severity": self.severity, "code": self.code, "message": self.message,
        }


class MFLError(Exception):
    """A located error that stops a stage (e.g. an unreadable include file)."""

    def __init__(self, span: Span, message: str):
        super().__init__(f"{span}: {message}")
        self.span = span
        self.message = message

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.span, self.message)


@dataclass
class Diagnostics:
    """Collects every diagnostic of a run (errors are never stopped at the first)."""
    items: list[Diagnostic] = field(default_factory=list)
    disabled: frozenset[str] = frozenset()

    def error(self, span: Span, message: str) -> None:
        self.items.append(Diagnostic(span, message))

    def warning(self, span: Span, code: str, message: str) -> None:
        if code not in self.disabled:
            self.items.append(Diagnostic(span, message, WARNING, code))

    def add(self, d: Diagnostic) -> None:
        if d.severity == WARNING and d.code in self.disabled:
            return
        self.items.append(d)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == WARNING]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.col))
