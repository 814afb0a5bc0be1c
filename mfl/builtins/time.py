"""Time: current time, formatting, interval parsing."""
from .registry import planned

D = "time"

planned("number time()", domain=D, doc="Seconds since the Epoch.")
planned("string strftime(string fmt, number timestamp; boolean gmt)", domain=D,
        doc="Format TIMESTAMP with strftime(3) (UTC if GMT, else local time).")
planned("number interval(string str)", domain=D,
        doc="Seconds in a time interval such as '1 hour 30 minutes' (e_invtime if bad).")
