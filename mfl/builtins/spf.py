"""SPF (the library layer, check_host, lives in module spf)."""
from .registry import planned, variable

D = "spf"

planned("number spf_check_host(string ip, string domain, string sender, string helo_domain, "
        "string my_domain)", domain=D, doc="RFC 4408 check_host(); an SPF result code.")
planned("number spf_test_record(string record, string ip, string domain, string sender, "
        "string helo_domain, string my_domain)", domain=D,
        doc="Evaluate the SPF RECORD as if published by DOMAIN.")

variable("string spf_explanation", domain=D, status="planned", default="",
         doc="Explanation published by the domain after a Fail result.")
variable("string spf_mechanism", domain=D, status="planned", default="",
         doc="The mechanism that decided the last SPF result.")
variable("string spf_explanation_prefix", domain=D, status="planned", default="",
         doc="Prefix (may contain SPF macros) for spf_explanation.")
