"""mfld's configuration file (mfl.milter.config).

The differential part replays ``tests/data/conf/diff/NAME.conf`` and compares
with ``NAME.expected``, recorded from mailfromd 8.15 by
``tools/record_config.py`` (see there; mailfromd is not needed here):

* mailfromd's exit status 0 <=> no ConfigError (78, or a crash, <=> error);
* its messages, in order, == our diagnostics minus mfl's own warnings;
* the values it shows with --show-defaults (user, statedir, pidfile, include
  and module path) == our settings (mailfromd's default when unset);
* the value of ``sv`` it read (``setvar sv ...``) == ours: the string syntax;
* ``interval-*``: its "greylist expiration" == parse_interval of the value.

The unit tests below cover the API, the mapping and what the corpus cannot
show (recursion, OSError, the module-level helpers).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from mfl.milter import config
from mfl.milter.config import (DEFAULT_CONFIG_FILE, MFL_IGNORED, ConfigError, load_config,
                               normalize_socket_url, parse_config_text, parse_interval,
                               show_defaults_text)
from mfl.milter.config_syntax import parse

DATA = Path(__file__).resolve().parent / "data" / "conf"
CORPUS = DATA / "diff"
CASES = sorted(p.stem for p in CORPUS.glob("*.conf"))
DEFAULTS = {"user": "mailfromd", "statedir": "/var/lib/mailfromd", "pidfile": "mailfromd.pid"}
KEYS = {"user": "user", "statedir": "state_directory", "pidfile": "pidfile",
        "include path": "include_path", "module path": "module_path"}


@pytest.fixture
def corpus(monkeypatch):
    # The recorder's directory name has this length too (locations depend on it).
    with tempfile.TemporaryDirectory(prefix="mfl-conf-", dir="/tmp") as t:
        tmp = Path(t)
        for f in CORPUS.rglob("*"):
            if f.is_file() and f.suffix != ".expected":
                dest = tmp / f.relative_to(CORPUS)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(f.read_bytes().replace(b"@DIR@", str(tmp).encode()))
        monkeypatch.chdir(tmp)
        yield tmp


def _load(tmp: Path, name: str):
    """(result or None, diagnostics) as mailfromd would have read NAME."""
    path = f"{name}.conf"
    if name.startswith("site-"):
        path = str(tmp / "site" / "mailfromd.conf")
        (tmp / "site").mkdir()
        shutil.copy(tmp / f"{name}.conf", path)
    try:
        res = load_config(path, site=name.startswith("site-"))
        diags = res.diagnostics
    except ConfigError as e:
        res, diags = None, e.diagnostics
    diags = [d.replace(path, "@SITE@") if name.startswith("site-") else d for d in diags]
    return res, [d.replace(str(tmp), "@DIR@") for d in diags if MFL_IGNORED not in d]


@pytest.mark.parametrize("name", CASES)
def test_differential(name, corpus):
    expected = json.loads((CORPUS / f"{name}.expected").read_text())
    res, diags = _load(corpus, name)
    assert (res is not None) == (expected["exit"] == 0), diags
    assert diags == expected["messages"]
    if res is None:
        return
    for label, value in expected.get("show", {}).items():
        if label in KEYS:
            assert res.settings.get(KEYS[label], DEFAULTS.get(label, [])) == value, label
    if "sv" in expected:
        assert [v for k, v in res.settings["variables"] if k == "sv"][-1] == expected["sv"]
    if name.startswith("interval-"):
        nodes, _ = parse((corpus / f"{name}.conf").read_text(), "x")
        value = nodes[0].children[0].value
        value = " ".join(value) if isinstance(value, tuple) else value
        assert parse_interval(value) == int(expected["show"]["greylist expiration"])


def test_corpus_is_recorded():
    assert CASES and all((CORPUS / f"{n}.expected").exists() for n in CASES)


# -- defaults -----------------------------------------------------------------

MAILFROMD = json.loads((DATA / "mailfromd-defaults.json").read_text())


def test_default_config_file():
    assert DEFAULT_CONFIG_FILE == MAILFROMD["config_file"]


def test_show_defaults_labels_and_order():
    labels = [line.split(":", 1)[0] for line in MAILFROMD["show_defaults"]]
    settings = {"script": "/etc/mfl/x.mfl", "user": "nobody", "state_directory": "/tmp",
                "socket": "unix:/run/mfld.sock", "pidfile": "/run/mfld.pid",
                "include_path": ["/a", "/b"], "module_path": [], "preprocessor": "m4 -s",
                "optional_features": ["DKIM"]}
    out = show_defaults_text(settings, "8.15")
    ours = [line.split(":", 1)[0] for line in out.splitlines()]
    assert ours == [lab for lab in labels if lab in ours]       # same order, same labels
    assert len(ours) == len(settings) + 1
    assert out.splitlines()[0] == "version:8.15"
    assert "include path:/a:/b" in out.splitlines()
    assert "module path:" in out.splitlines()
    assert "optional features:DKIM" in out.splitlines()


def test_show_defaults_fallbacks():
    shown = dict(line.split(":", 1) for line in MAILFROMD["show_defaults"])
    out = dict(line.split(":", 1) for line in show_defaults_text({}, "x").splitlines())
    for label in ("script file", "user", "statedir", "pidfile"):
        assert out[label] == shown[label]
    assert "socket" not in out
    out = show_defaults_text({"no_preprocessor": True}, "x")
    assert "preprocessor:none" in out.splitlines()


# -- syntax -------------------------------------------------------------------

def values(text):
    nodes, errors = parse(text, "t.conf")
    assert not errors, errors
    return [(n.name, n.value) for n in nodes]


def test_values_lists_arrays():
    assert values('a1 x;\nb2 "q" "r";\nc3 (a, "b", (c, d),);\nd4 x "y" (z);') == [
        ("a1", "x"), ("b2", "qr"), ("c3", ["a", "b", ["c", "d"]]), ("d4", ("x", "y", ["z"]))]


def test_blocks_and_tags():
    nodes, _ = parse("server milter { id x; acl { allow any; } };\nempty { }\n", "t")
    assert [(n.name, n.value, n.is_block) for n in nodes] == [
        ("server", "milter", True), ("empty", None, True)]
    assert [c.name for c in nodes[0].children] == ["id", "acl"]
    assert str(nodes[0].loc) == "t:1.1-43"


def test_heredoc_and_escapes():
    assert values('s1 <<EOT\n a\\tb\nEOT\n;\ns2 "x\\q" "y";\ns3 <<-EOT\n\tz\n\tEOT;\n') == [
        ("s1", " a\tb\n"), ("s2", "xy"), ("s3", "z\n")]


def test_utf8_in_quotes():
    res = parse_config_text('setvar sv "café";\n', "t.conf")
    assert res.settings["variables"] == [("sv", "café")]


@pytest.mark.parametrize("text, message", [
    ("", "syntax error"),
    ("pidfile x", "t.conf:1.9: syntax error"),
    ("pidfile x\n", "t.conf:1.9: syntax error"),
    ("pidfile (a,,b);", "t.conf:1.12: syntax error"),
    ("user a;\n}", "t.conf:2.1: syntax error"),
    ("pidfile a;\nbogus 1;", "t.conf:2.1-8: unknown keyword `bogus'"),
    ("pidfile a+b;", "t.conf:1.10: stray character +"),
])
def test_error_locations(text, message):
    with pytest.raises(ConfigError) as e:
        parse_config_text(text, "t.conf")
    assert str(e.value) == message


def test_all_errors_reported():
    with pytest.raises(ConfigError) as e:
        parse_config_text("bogus 1;\nuser (a);\nstack-trace maybe;\n", "t.conf")
    assert e.value.messages == ["t.conf:1.1-8: unknown keyword `bogus'",
                                "t.conf:2.1-9: expected string value",
                                "t.conf:3.1-18: Invalid argument"]


# -- mapping ------------------------------------------------------------------

def settings(text):
    return parse_config_text(text, "t.conf").settings


def test_mapping_of_every_option():
    s = settings("""
        user nobody; group root; group daemon; pidfile /run/p.pid; script-file /s.mfl;
        state-directory /tmp; include-path /i1:/i2; include-path (/i3); module-path /m;
        milter-timeout "1 hour 5"; stack-trace yes; trace-actions on; debug "all.error";
        logger stderr; setvar a "1"; ehlo-domain e.org; mail-from-address "<>";
        logging { facility LOCAL1; tag mfld; }
        resolver { config /etc/resolv.conf; }
        preprocessor { enable no; }
        server milter { listen inet://127.0.0.1:3333; max-instances 4; single-process t; }
    """)
    assert s == {
        "user": "nobody", "group": ["root", "daemon"], "pidfile": "/run/p.pid",
        "script": "/s.mfl", "state_directory": "/tmp", "include_path": ["/i1", "/i2", "/i3"],
        "module_path": ["/m"], "milter_timeout": 3605, "stack_trace": True, "trace": True,
        "debug": "all.error", "logger": "stderr",
        "variables": [("a", "1"), ("ehlo_domain", "e.org"), ("mailfrom_address", "<>")],
        "syslog_facility": "local1", "log_tag": "mfld", "resolv_conf_file": "/etc/resolv.conf",
        "no_preprocessor": True, "socket": "inet:3333@127.0.0.1", "max_connections": 4,
        "single_process": True}


@pytest.mark.parametrize("word, value", [
    ("yes", True), ("on", True), ("t", True), ("true", True), ("1", True),
    ("no", False), ("off", False), ("nil", False), ("false", False), ("0", False)])
def test_booleans(word, value):
    assert settings(f"stack-trace {word};")["stack_trace"] is value


def test_later_statements_win_and_lists_accumulate():
    s = settings("pidfile /a; pidfile /b; include-path a; include-path b:c;")
    assert s == {"pidfile": "/b", "include_path": ["a", "b", "c"]}


def test_first_milter_server_only():
    res = parse_config_text("server callout { listen /c; }\nserver { listen /a; }\n"
                            "server milter { listen /b; }\n", "t.conf")
    assert res.settings == {"socket": "unix:/a"}
    assert len(res.warnings) == 2 and all(MFL_IGNORED in w for w in res.warnings)


def test_ignored_statements_warn_with_location():
    res = parse_config_text("transcript yes;\ndatabase cache { file x.db; }\n"
                            "logging { severity info; }\nfoo { }\n", "t.conf")
    assert res.settings == {}
    assert res.warnings == [
        f"t.conf:1.1-15: warning: statement `transcript' is accepted but {MFL_IGNORED}",
        f"t.conf:2.1-29: warning: block `database cache' is accepted but {MFL_IGNORED}",
        f"t.conf:3.11-24: warning: statement `severity' is accepted but {MFL_IGNORED}",
        f"t.conf:4.1-7: warning: unknown block `foo' is {MFL_IGNORED}"]


def test_ignored_statements_are_still_checked():
    with pytest.raises(ConfigError) as e:
        parse_config_text("transcript maybe;\nsmtp-timeout bogus { }\n", "t.conf")
    assert e.value.messages == ["t.conf:1.1-17: Invalid argument",
                                "t.conf:2.1-22: unknown timeout class: bogus"]


def test_logger_values():
    assert settings("logger syslog:async;")["logger"] == "syslog"
    with pytest.raises(ConfigError, match="unsupported logger stream: x"):
        parse_config_text("logger x;", "t.conf")


@pytest.mark.parametrize("url, expected", [
    ("unix:///run/a.sock", "unix:/run/a.sock"), ("local:/run/a", "unix:/run/a"),
    ("/run/a", "unix:/run/a"), ("unix:/run/a", "unix:/run/a"),
    ("inet://10.0.0.1:25", "inet:25@10.0.0.1"), ("inet:25@h", "inet:25@h"),
    ("inet6://[::1]:25", "inet6:25@::1")])
def test_socket_urls(url, expected):
    assert normalize_socket_url(url) == expected


@pytest.mark.parametrize("text, seconds", [
    ("90", 90), ("1 hour", 3600), ("2 days 1 h 3", 176403), ("", 0), ("1 min 1 s", 61)])
def test_intervals(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text, near", [("10s", "s"), ("1 year", "year"), ("2 3", "3")])
def test_bad_intervals(text, near):
    with pytest.raises(ConfigError) as e:
        parse_config_text(f'milter-timeout "{text}";', "t.conf")
    assert str(e.value).endswith(f"unrecognized time format (near `{near}')")


# -- files and include -----------------------------------------------------------

def test_load_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_config(str(tmp_path / "missing.conf"))
    with pytest.raises(FileNotFoundError):        # mailfromd: not a regular file
        load_config(str(tmp_path))


def test_include_relative_to_sysconfdir(tmp_path, monkeypatch):
    (tmp_path / "part.conf").write_text("user from-part;\n")
    main = tmp_path / "main.conf"
    main.write_text("include part.conf;\npidfile /p;\n")
    monkeypatch.setattr(config, "SYSCONFDIR", str(tmp_path))
    res = load_config(str(main))
    assert res.settings == {"user": "from-part", "pidfile": "/p"}
    assert res.files == [str(main), str(tmp_path / "part.conf")]


def test_recursive_include(tmp_path):
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    a.write_text(f"include {b};\n")
    b.write_text(f"user x;\ninclude {a};\n")
    with pytest.raises(ConfigError, match="recursive inclusion"):
        load_config(str(a))


def test_site_mode_follows_the_default_path(tmp_path, monkeypatch):
    (tmp_path / "mailfromd.conf").write_text("program mailfromd { user p; }\n")
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "mailfromd.conf"))
    assert load_config(str(tmp_path / "mailfromd.conf")).settings == {"user": "p"}
    res = load_config(str(tmp_path / "mailfromd.conf"), site=False)
    assert res.settings == {} and "ignoring `program' block" in res.warnings[0]
