"""Third-party scanners: SpamAssassin (spamd) and ClamAV."""
from .registry import planned, variable

D = "sa"

planned("boolean spamc(number msg, string url, number prec, number command)", domain=D,
        doc="Send message MSG to spamd at URL; COMMAND: symbols, report, learn, forget.")
planned("boolean clamav(number msg, string url)", domain=D,
        doc="Scan message MSG with clamd at URL; true if a virus was found.")

variable("number sa_score", domain=D, status="planned", default=0,
         doc="Spam score from spamc (scaled by 10**prec).  Section 4.9.1 of the manual calls it sa_code.")
variable("number sa_threshold", domain=D, status="planned", default=0,
         doc="Spam threshold from spamc (scaled by 10**prec).")
variable("string sa_keywords", domain=D, status="planned", default="",
         doc="Spam keywords or report from spamc.")
variable("string clamav_virus_name", domain=D, status="planned", default="",
         doc="Name of the virus found by clamav.")
