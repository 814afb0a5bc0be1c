"""DBM databases and the program's own databases (greylist, rate, cache...)."""
from .registry import planned

D = "db"

planned("boolean dbmap(string db, string key; boolean null)", domain=D,
        doc="True if KEY is in database DB (NULL: count the terminating NUL).")
planned("string dbget(string db, string key; string default, boolean null)", domain=D,
        doc="Value of KEY in DB (DEFAULT, or e_not_found, if absent).")
planned("void dbput(string db, string key, string value; boolean null, number mode)",
        domain=D, doc="Store KEY=VALUE in DB (MODE: file mode on creation).")
planned("void dbinsert(string db, string key, string value; boolean replace, boolean null, "
        "number mode)", domain=D,
        doc="Like dbput, but e_exists if KEY is present and REPLACE is false.")
planned("void dbdel(string db, string key; boolean null, number mode)", domain=D,
        doc="Delete KEY from DB.")
planned("number dbfirst(string name)", domain=D,
        doc="Start iterating over database NAME; returns an iterator.")
planned("number dbnext(number dn)", domain=D,
        doc="Advance the iterator; returns the new one, 0 after the last record.")
planned("string dbkey(number dn)", domain=D, doc="Key at the iterator position.")
planned("string dbvalue(number dn)", domain=D, doc="Value at the iterator position.")
planned("number db_expire_interval(string fmt)", domain=D,
        doc="Expiration interval of the program database FMT (greylist, rate...).")
planned("string db_name(string fmtid)", domain=D,
        doc="File name of the program database FMTID.")
planned("number db_get_active(string fmtid)", domain=D,
        doc="True if the program database FMTID is enabled.")
planned("void db_set_active(string fmtid, boolean enable)", domain=D,
        doc="Enable or disable the program database FMTID.")
planned("boolean relayed(string domain)", domain=D,
        doc="True if DOMAIN is in the relayed-domain list.")
