"""MFL *library* functions and variables of mailfromd 8.15 (for the docs only).

These are not built-ins: mailfromd defines them in MFL modules that a script
must ``require`` first (``require dns`` makes ``hasmx`` visible).  mfl will
ship its own modules for them; this table only records their names, MFL
signatures and modules, so that docs/builtins.md can list them and the tests
can check that none of them is registered as a built-in.

``tools/probe_builtins.py`` checks every entry against the real program
(unknown without ``require MODULE``, known with it).
"""
from __future__ import annotations

# (name, MFL signature, module)
LIBRARY_FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    # callout
    ("callout_open", "number callout_open(string url)", "callout"),
    ("callout_close", "void callout_close(number fd)", "callout"),
    ("callout_do", "number callout_do(number fd, string email; string rest)", "callout"),
    ("callout", "number callout(string email)", "callout"),
    # poll (compatibility callout functions)
    ("_pollhost", "number _pollhost(string ip, string email, string domain, string mailfrom)", "poll"),
    ("_pollmx", "number _pollmx(string ip, string email, string domain, string mailfrom)", "poll"),
    ("stdpoll", "number stdpoll(string email, string domain, string mailfrom)", "poll"),
    ("strictpoll", "number strictpoll(string host, string email, string domain, string mailfrom)", "poll"),
    # dkim
    ("dkim_signature_tag", "string dkim_signature_tag(string sig, string tag)", "dkim"),
    ("dkim_verified_signature_tag", "string dkim_verified_signature_tag(string tag)", "dkim"),
    # dns
    ("hostname", "string hostname(string ip)", "dns"),
    ("resolve", "string resolve(string host; string domain)", "dns"),
    ("hasmx", "boolean hasmx(string domain)", "dns"),
    ("ismx", "boolean ismx(string domain, string host)", "dns"),
    ("hasns", "boolean hasns(string domain)", "dns"),
    ("dns_getname", "string dns_getname(string ip)", "dns"),
    ("dns_getaddr", "string dns_getaddr(string domain)", "dns"),
    ("getns", "string getns(string domain; boolean resolve, boolean sort)", "dns"),
    ("getmx", "string getmx(string domain; boolean resolve)", "dns"),
    # email (documented, but no email.mfl ships with mailfromd 8.15)
    ("email_valid", "boolean email_valid(string email)", "email"),
    # gettext
    ("textdomain", "string textdomain(string domain)", "gettext"),
    ("gettext", "string gettext(string msgid)", "gettext"),
    ("ngettext", "string ngettext(string msgid, string msgid_plural, number n)", "gettext"),
    # header_rename
    ("header_rename", "void header_rename(string name, string newname; number idx)", "header_rename"),
    ("header_prefix_all", "void header_prefix_all(string name; string prefix)", "header_rename"),
    ("header_prefix_pattern", "void header_prefix_pattern(string pattern; string prefix)",
     "header_rename"),
    # single-function modules
    ("heloarg_test", "number heloarg_test(string arg, string remote_ip, string local_ip)",
     "heloarg_test"),
    ("is_ip", "boolean is_ip(string str)", "is_ip"),
    ("localdomain", "string localdomain()", "localdomain"),
    ("match_cidr", "boolean match_cidr(string ip, string cidr)", "match_cidr"),
    ("match_dnsbl", "boolean match_dnsbl(string address, string zone, string range)",
     "match_dnsbl"),
    ("match_rhsbl", "boolean match_rhsbl(string email, string zone, string range)",
     "match_rhsbl"),
    ("portprobe", "boolean portprobe(string host; number port)", "portprobe"),
    ("listens", "boolean listens(string host; number port)", "portprobe"),
    ("rateok", "boolean rateok(string key, number interval, number threshold; number min_samples)",
     "rateok"),
    ("revip", "string revip(string ip)", "revip"),
    ("strip_domain_part", "string strip_domain_part(string domain, number n)",
     "strip_domain_part"),
    ("valid_domain", "boolean valid_domain(string domain)", "valid_domain"),
    ("verp_extract_user", "string verp_extract_user(string email, string domain)", "verp"),
    # mime
    ("message_body_decode", "number message_body_decode(number nmsg; string charset, string fallback)",
     "mime"),
    ("message_part_decode",
     "number message_part_decode(number nmsg, number part; string charset, string fallback)", "mime"),
    # sa
    ("sa", "boolean sa(string url, number prec; number command)", "sa"),
    ("sa_format_score", "string sa_format_score(number code, number prec)", "sa"),
    ("sa_format_report_header", "string sa_format_report_header(string text)", "sa"),
    # safedb
    ("safedbmap", "boolean safedbmap(string db, string key; boolean default, boolean null)",
     "safedb"),
    ("safedbget", "string safedbget(string db, string key; string default, boolean null)", "safedb"),
    ("safedbput", "void safedbput(string db, string key, string value; boolean null)", "safedb"),
    ("safedbdel", "void safedbdel(string db, string key; boolean null)", "safedb"),
    # sockmap
    ("sockmap_lookup", "string sockmap_lookup(number fd, string map, string key)", "sockmap"),
    ("sockmap_single_lookup", "string sockmap_single_lookup(string url, string map, string key)",
     "sockmap"),
    # spf
    ("check_host", "number check_host(string ip, string domain, string sender, string helo)", "spf"),
    ("spf_status_string", "string spf_status_string(number code)", "spf"),
)

# (name, type, module): variables the manual lists as "predefined" although
# mailfromd 8.15 declares them in a library module.
LIBRARY_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("cache_used", "number", "callout"),
    ("last_poll_greeting", "string", "callout"),
    ("last_poll_helo", "string", "callout"),
    ("last_poll_host", "string", "callout"),
    ("last_poll_recv", "string", "callout"),
    ("last_poll_sent", "string", "callout"),
    ("safedb_verbose", "number", "safedb"),
)

LIBRARY_NAMES = frozenset(n for n, _, _ in LIBRARY_FUNCTIONS)
