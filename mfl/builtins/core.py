"""Core: built-in constants, built-in exceptions and the milter connection variables.

The exception codes are fixed by the mailfromd 8.15 runtime.  Note that 8.15
only makes their *names* visible after ``require status`` (module status.mfl
declares them, in code order, with ``dclex``); mailfromd does not know
``e_divzero`` in a script that does not require it.
"""
from .registry import constant, exception, variable

D = "core"

# ---------------------------------------------------------------- constants
# Values are those of mailfromd 8.15 as installed; the ones that depend on the
# place of use are computed by the compiler (the value here is a placeholder).
constant("__file__", "", doc="Name of the current source file (context-dependent).")
constant("__line__", 0, doc="Current source line number (context-dependent).")
constant("__function__", "", doc="Name of the current function or handler (context-dependent).")
constant("__module__", "", doc="Name of the current module (context-dependent).")
constant("__package__", "mailfromd", doc="Package name.")
constant("__version__", "8.15", doc="Package version.")
constant("__major__", 8, doc="Major version number.")
constant("__minor__", 15, doc="Minor version number.")
constant("__patch__", 0, doc="Patch level (0 for stable releases).")
constant("__git__", "", doc="Git tag of an alpha version; empty in releases.")
constant("__defpreproc__", "/usr/bin/m4 -s", doc="Default preprocessor command line.")
constant("__preproc__", "/usr/bin/m4 -s", doc="Preprocessor command line in use.")
constant("__defstatedir__", "/var/lib/mailfromd", doc="Default state directory.")
constant("__statedir__", "/var/lib/mailfromd", doc="State directory in use.")

# ---------------------------------------------------------------- exceptions
exception("e_success", 0, "Not an error: success (alias: success).")
exception("e_not_found", 1, "The entity looked for does not exist (alias: not_found).")
exception("e_failure", 2, "Permanent failure, e.g. of a DNS lookup (alias: failure).")
exception("e_temp_failure", 3, "Temporary failure (alias: temp_failure).")
exception("e_ston_conv", 4, "String to number conversion failed.")
exception("e_divzero", 5, "Division by zero.")
exception("e_regcomp", 6, "A regular expression built at run time does not compile.")
exception("e_invip", 7, "Invalid IP address.")
exception("e_invcidr", 8, "Invalid CIDR notation.")
exception("e_invtime", 9, "Invalid time interval.")
exception("e_dbfailure", 10, "Database failure.")
exception("e_range", 11, "Argument out of range.")
exception("e_url", 12, "Invalid URL.")
exception("e_noresolve", 13, "Name or address cannot be resolved.")
exception("e_io", 14, "Input/output error.")
exception("e_macroundef", 15, "Sendmail macro not defined.")
exception("e_eof", 16, "End of file.")
exception("e_exists", 17, "Key already exists (dbinsert).")
exception("e_format", 18, "Input data badly formatted.")
exception("e_badmmq", 19, "Incompatible message modification queued before this call.")
exception("e_ilseq", 20, "Illegal byte sequence in character set conversion.")
exception("e_inval", 21, "Invalid argument.")
exception("success", 0, "Alias of e_success.")
exception("not_found", 1, "Alias of e_not_found.")
exception("failure", 2, "Alias of e_failure.")
exception("temp_failure", 3, "Alias of e_temp_failure.")

# ---------------------------------------------------------------- variables
# Not documented in the 8.15 manual; found with `mailfromd --xref'.
variable("string milter_client_address", domain=D, status="planned", default="",
         doc="Undocumented: address of the MTA connected to the milter.")
variable("number milter_client_family", domain=D, status="planned", default=0,
         doc="Undocumented: address family of milter_client_address.")
variable("string milter_server_address", domain=D, status="planned", default="",
         doc="Undocumented: address the milter server listens on.")
variable("number milter_server_family", domain=D, status="planned", default=0,
         doc="Undocumented: address family of milter_server_address.")
variable("string milter_server_id", domain=D, status="planned", default="",
         doc="Undocumented: identifier of the milter server.")
