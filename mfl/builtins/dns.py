"""DNS built-ins (the library layer, hasmx, resolve..., lives in module dns)."""
from .registry import planned

D = "dns"

planned("number dns_query(number type, string domain; boolean sort, boolean resolve)",
        domain=D, doc="Run a DNS query of TYPE for DOMAIN; returns a reply descriptor.")
planned("void dns_reply_release(number rd)", domain=D, doc="Free a DNS reply.")
planned("number dns_reply_count(number rd)", domain=D, doc="Number of records in a reply.")
planned("string dns_reply_string(number rd, number n)", domain=D,
        doc="Nth record of a reply, as a string.")
planned("string dns_reply_ip(number rd, number n)", domain=D,
        doc="Nth record of a reply, as an IP address (a string in 8.15, a number in the "
            "manual).")
planned("boolean primitive_hasmx(string domain)", domain=D,
        doc="True if DOMAIN has MX records (exceptions on DNS failure).")
planned("string primitive_hostname(string ip)", domain=D,
        doc="Host name of IP by a PTR lookup (exceptions on failure).")
planned("boolean primitive_ismx(string domain, string host)", domain=D,
        doc="True if HOST is an MX of DOMAIN.")
planned("string primitive_resolve(string host; string domain)", domain=D,
        doc="IP address of HOST (HOST.DOMAIN if DOMAIN is given); exceptions on failure.")
planned("boolean ptr_validate(string ip)", domain=D,
        doc="True if a PTR name of IP resolves back to IP (8.15 returns a number; the "
            "manual says string).")
planned("boolean primitive_hasns(string domain)", domain=D,
        doc="True if DOMAIN has NS records.")
