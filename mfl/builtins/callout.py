"""Callout (sender verification) support built into the program."""
from .registry import planned, variable

D = "callout"

planned("string default_callout_server_url()", domain=D,
        doc="URL of the default callout server.")
planned("boolean callout_transcript(; boolean value)", domain=D,
        doc="Return the SMTP transcript flag of callouts; set it when VALUE is given.")
planned("string callout_starttls(; string value)", domain=D,
        doc="Not in the 8.15 manual: return the callout STARTTLS mode (default "
            "'ondemand'); when VALUE is given, set it and return the old mode.")

variable("string ehlo_domain", domain=D, status="planned", default="",
         doc="Domain sent in EHLO/HELO by callouts (empty: the host's FQDN).")
variable("string mailfrom_address", domain=D, status="planned", default="",
         doc="Address(es) sent in MAIL FROM by callouts (empty: '<>').")
