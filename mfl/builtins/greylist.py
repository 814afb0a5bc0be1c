"""Greylisting."""
from .registry import planned, variable

D = "greylist"

planned("boolean greylist(string key, number interval)", domain=D,
        doc="True if KEY must still be greylisted for INTERVAL seconds.")
planned("boolean is_greylisted(string key)", domain=D,
        doc="True if KEY is still greylisted (Con Tassios greylisting type).")

variable("number greylist_seconds_left", domain=D, status="planned", default=0,
         doc="Seconds left of the greylisting period, set by greylist and is_greylisted.")
