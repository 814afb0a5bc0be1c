"""mailfromd's configuration file, for ``mfld``.

The syntax is read by :mod:`mfl.milter.config_syntax`; this module knows the
statements of mailfromd 8.15 (``mailfromd --config-help``) and maps those mfl
implements onto the option names (argparse dests) of ``mfld``:

=============================================  ===========================
statement                                      settings key
=============================================  ===========================
``user NAME``                                  ``user``
``group NAME`` (repeatable, one name each)     ``group`` (list, appended)
``pidfile FILE``                               ``pidfile``
``script-file FILE``                           ``script``
``state-directory DIR``                        ``state_directory``
``include-path A:B``, ``module-path A:B``      ``include_path``, ``module_path`` (lists)
``milter-timeout INTERVAL``                    ``milter_timeout`` (int seconds)
``stack-trace BOOL``                           ``stack_trace``
``trace-actions BOOL``                         ``trace``
``debug SPEC``                                 ``debug`` (string)
``logger stderr|syslog|syslog:async``          ``logger`` ("stderr" or "syslog")
``setvar NAME VALUE``                          ``variables`` (list of (name, value))
``ehlo-domain X``, ``mail-from-address X``     ``variables`` (ehlo_domain, mailfrom_address)
``logging { facility F; tag T; }``             ``syslog_facility``, ``log_tag``
``resolver { config FILE; }``                  ``resolv_conf_file``
``preprocessor { enable BOOL; }``              ``no_preprocessor`` (inverted)
``server milter { listen URL; }``              ``socket`` (``unix:/p``, ``inet:PORT@HOST``)
``server milter { max-instances N; }``         ``max_connections``
``server milter { single-process BOOL; }``     ``single_process``
=============================================  ===========================

Every other statement of mailfromd 8.15 is checked like mailfromd checks it,
then ignored with a warning ("... is accepted but ignored by mfl").  Unknown
simple statements are errors ("unknown keyword `X'"); unknown blocks are
skipped (mailfromd skips them silently, mfl warns).  ``include FILE`` and
``program mailfromd { ... }`` work as in mailfromd: a relative include is
looked up in /etc, and directory includes and ``program`` blocks are honoured
only in the site-wide file (``load_config(DEFAULT_CONFIG_FILE)``), not in one
given with ``--config-file`` (warning).  Messages use mailfromd's wording and
``FILE:LINE.COL-COL`` locations; ``ConfigError.messages`` lists them all in
order (the CLI prints each after ``mfld: ``).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from .config_schema import (CHECKS, LIST_KEYS, TOP, VAR_KEYS, BadValue, Section, first_leaf,
                            normalize_socket_url, parse_interval)
from .config_syntax import CfgArray, CfgList, Node, parse

__all__ = ["ConfigError", "ConfigResult", "load_config", "parse_config_text",
           "show_defaults_text", "DEFAULT_CONFIG_FILE", "MAILFROMD_DEFAULTS", "MFL_IGNORED",
           "normalize_socket_url", "parse_interval"]

DEFAULT_CONFIG_FILE = "/etc/mailfromd/mailfromd.conf"   # mailfromd 8.15 on Debian
SYSCONFDIR = "/etc"            # where a relative ``include`` is looked up
PROGRAM_NAME = "mailfromd"     # ``program NAME { }`` and ``include DIR`` use it
MFL_IGNORED = "ignored by mfl"  # in every warning that is mfl's own, in no other


class ConfigError(Exception):
    """``str(e)`` is the first error ("FILE:LINE.COL: message"); ``messages``
    are all errors, ``diagnostics`` all errors and warnings in mailfromd's order."""

    def __init__(self, messages: list[str], warnings: list[str] | None = None,
                 diagnostics: list[str] | None = None):
        super().__init__(messages[0] if messages else "configuration error")
        self.messages = list(messages)
        self.warnings = list(warnings or [])
        self.diagnostics = list(diagnostics or self.messages)


@dataclass
class ConfigResult:
    settings: dict
    warnings: list[str]
    files: list[str] = field(default_factory=list)        # files read, in order
    diagnostics: list[str] = field(default_factory=list)  # = warnings when no error


def _text(v):
    """Values are read as Latin-1 (one char per byte); give back real text."""
    if isinstance(v, str):
        return v.encode("latin-1").decode("utf-8", "surrogateescape")
    if isinstance(v, CfgList):
        return CfgList(_text(x) for x in v)
    if isinstance(v, CfgArray):
        return CfgArray(_text(x) for x in v)
    return v


def _convert(nodes: list[Node]) -> list[Node]:
    for n in nodes:
        n.value = _text(n.value)
        if n.children:
            _convert(n.children)
    return nodes


def _read(path: str) -> str:
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise FileNotFoundError(2, os.strerror(2), path)    # as mailfromd says
    with open(path, "rb") as f:
        return f.read().decode("latin-1")


class _Loader:
    def __init__(self, site: bool):
        self.site, self.settings, self.milter_servers = site, {}, 0
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.files: list[str] = []
        self.stack: list[str] = []
        self.log: list[str] = []

    def error(self, loc, msg):
        self.errors.append(f"{loc}: {msg}" if loc else msg)
        self.log.append(self.errors[-1])

    def warn(self, loc, msg, prefix="warning: "):
        self.warnings.append(f"{loc}: {prefix}{msg}")
        self.log.append(self.warnings[-1])

    # -- reading, include and program -----------------------------------------

    def parse_data(self, data: str, file: str, top: bool):
        nodes, errs = parse(data, file)
        for e in errs:
            self.error(None, e)
        if nodes is None and top:
            self.error(None, f"errors parsing file {file}: Operation failed")
        return _convert(nodes) if nodes else None

    def parse_file(self, path: str, top: bool):
        try:
            data = _read(path)
        except OSError as e:
            if top:
                raise
            if not isinstance(e, FileNotFoundError):
                self.error(None, f"cannot open config file `{path}': {e.strerror}")
            return None
        self.files.append(path)
        return self.parse_data(data, path, top)

    def postprocess(self, nodes: list[Node], program: bool) -> list[Node]:
        i = 0
        while i < len(nodes):       # spliced-in statements are visited too
            n = nodes[i]
            if n.is_block and n.name == "program":
                if not program:
                    self.warn(n.loc, "ignoring `program' block: not located in "
                                     "top-level configuration file")
                elif not isinstance(n.value, str):
                    self.error(n.loc, "argument to `program' is not a string")
                    del nodes[i]
                    continue
                elif n.value == PROGRAM_NAME:
                    nodes[i:i + 1] = n.children
                    continue
            elif not n.is_block and n.name == "include":
                del nodes[i]
                if isinstance(n.value, str):
                    nodes[i:i] = self.include(n.value, n.loc, program)
                else:
                    self.error(n.loc, "argument to `include' is not a string")
                continue
            i += 1
        return nodes

    def include(self, name: str, loc, program: bool) -> list[Node]:
        path = os.path.expanduser(name)
        if not path.startswith("/"):
            path = os.path.join(SYSCONFDIR, path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.error(loc, "include file or directory does not exist")
            return []
        except OSError as e:
            self.error(loc, f"cannot stat include file or directory: {e.strerror}")
            return []
        if stat.S_ISDIR(st.st_mode):
            if not program:
                self.warn(loc, "ignoring `include': directory argument is allowed only "
                               "from the top-level configuration file")
                return []
            path = os.path.join(path, PROGRAM_NAME)
        real = os.path.realpath(path)
        if real in self.stack:
            self.error(loc, f"recursive inclusion of `{path}'")
            return []
        self.stack.append(real)
        try:
            nodes = self.parse_file(path, top=False)
            return self.postprocess(nodes, False) if nodes else []
        finally:
            self.stack.pop()

    # -- statements -------------------------------------------------------------

    def scan(self, nodes: list[Node], sec: Section, sink: dict, quiet: bool):
        for n in nodes:
            if n.is_block:
                sub = sec.sections.get(n.name)
                if sub is not None:
                    self.block(n, sub, sink, quiet)
                elif n.name != "program":
                    self.warn(n.loc, f"unknown block `{n.name}' is {MFL_IGNORED}")
                continue
            spec = sec.params.get(n.name)
            if spec is None:
                self.error(n.loc, f"unknown keyword `{n.name}'")
                continue
            kind, key = spec
            try:
                value = CHECKS[kind](n)
            except BadValue as e:
                self.error(n.loc, str(e))
                continue
            if key is None:
                if not quiet:
                    self.warn(n.loc, f"statement `{n.name}' is accepted but {MFL_IGNORED}")
            else:
                self.apply(sink, key, value, n)

    def apply(self, sink: dict, key: str, value, n: Node):
        if key == "socket":
            value = normalize_socket_url(value)
        elif key == "no_preprocessor":
            value = not value
        elif key == "logger" and value == "syslog:async":
            self.warn(n.loc, f"asynchronous syslog is not implemented, {MFL_IGNORED}")
            value = "syslog"
        if key in VAR_KEYS:
            key, value = "variables", (VAR_KEYS[key], value)
        if key in LIST_KEYS:
            sink.setdefault(key, []).extend(value if isinstance(value, list) else [value])
        else:
            sink[key] = value

    def block(self, n: Node, sec: Section, sink: dict, quiet: bool):
        label, v = sec.label, n.value
        if label and v is not None and not isinstance(v, str):
            if label == "server":
                self.error(n.loc, f"unexpected value: {first_leaf(v)}")
            else:           # mailfromd says so and skips the block
                self.warn(n.loc, f"unexpected value: {first_leaf(v)}", "")
            return
        if label == "database" and v not in ("cache", "rate", "tbf", "greylist"):
            self.error(n.loc, "required argument missing" if v is None
                       else f"unknown database format: {v}")
            return
        if label == "timeout" and v not in (None, "soft", "hard"):
            self.error(n.loc, f"unknown timeout class: {v}")
            return
        if sec.ignored and not quiet:
            what = f"{n.name} {v}" if isinstance(v, str) and label else n.name
            self.warn(n.loc, f"block `{what}' is accepted but {MFL_IGNORED}")
        if label == "database" and v != "cache":
            for c in n.children:
                if c.name in ("positive-expire-interval", "negative-expire-interval"):
                    self.warn(c.loc, f"{c.name} is valid only for cache database", "")
        if label != "server":
            self.scan(n.children, sec, sink, quiet or sec.ignored)
            return
        kind = v or "milter"
        served = kind == "milter" and not self.milter_servers
        inner: dict = {}
        self.scan(n.children, sec, inner, quiet or not served)
        if kind not in ("milter", "callout"):
            self.error(n.loc, "unknown server type")
        elif served:
            sink.update(inner)
        elif not quiet:
            self.warn(n.loc, f"block `server {kind}' is accepted but {MFL_IGNORED}"
                      + (" (mfl serves the first milter server only)" if kind == "milter"
                         else ""))
        self.milter_servers += kind == "milter"

    def finish(self, nodes) -> ConfigResult:
        if nodes is not None:
            self.scan(self.postprocess(nodes, self.site), TOP, self.settings, False)
        if self.errors:
            raise ConfigError(self.errors, self.warnings, self.log)
        return ConfigResult(self.settings, self.warnings, self.files, self.log)


# -- public entry points ------------------------------------------------------

def load_config(path: str, *, site: bool | None = None) -> ConfigResult:
    """Read a configuration file.  SITE (default: PATH is DEFAULT_CONFIG_FILE)
    enables ``program mailfromd { }`` blocks and ``include DIR``, as for
    mailfromd's own site-wide file.  Raises ConfigError, or OSError when PATH
    cannot be read (mailfromd: "errors parsing file PATH: STRERROR"; a missing
    DEFAULT_CONFIG_FILE is not an error for mailfromd: it reads nothing)."""
    if path.startswith("~"):
        path = os.path.expanduser(path)
    if site is None:
        site = os.path.abspath(path) == DEFAULT_CONFIG_FILE
    ld = _Loader(site)
    ld.stack.append(os.path.realpath(path))
    return ld.finish(ld.parse_file(path, top=True))


def parse_config_text(text: str, filename: str, *, site: bool = False) -> ConfigResult:
    ld = _Loader(site)
    ld.files.append(filename)
    data = text.encode("utf-8", "surrogateescape").decode("latin-1")
    return ld.finish(ld.parse_data(data, filename, top=True))


# ``mailfromd --show-defaults``: the lines mfl has a value for, in its order.
_SHOW = [("script file", "script"), ("preprocessor", "preprocessor"), ("user", "user"),
         ("statedir", "state_directory"), ("socket", "socket"), ("pidfile", "pidfile"),
         ("include path", "include_path"), ("module path", "module_path"),
         ("optional features", "optional_features")]
MAILFROMD_DEFAULTS = {"script": "/etc/mailfromd/mailfromd.mfl", "user": "mailfromd",
                      "state_directory": "/var/lib/mailfromd", "pidfile": "mailfromd.pid"}


def show_defaults_text(settings: dict, version: str) -> str:
    """Keys as in ConfigResult.settings, plus ``preprocessor`` (command line)
    and ``optional_features`` (list); lists of paths are joined with ':'."""
    lines = [f"version:{version}"]
    for label, key in _SHOW:
        v = settings.get(key)
        if key == "preprocessor" and settings.get("no_preprocessor"):
            v = "none"
        if v is None:
            v = MAILFROMD_DEFAULTS.get(key)
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            v = (", " if key == "optional_features" else ":").join(v)
        lines.append(f"{label}:{v}")
    return "\n".join(lines) + "\n"
