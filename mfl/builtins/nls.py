"""Native language support (the library layer, gettext..., lives in module gettext)."""
from .registry import planned

D = "nls"

planned("string bindtextdomain(string domain, string dirname)", domain=D,
        doc="Set the message catalog directory of DOMAIN; returns it.")
planned("string dgettext(string domain, string msgid)", domain=D,
        doc="Translation of MSGID in DOMAIN.")
planned("string dngettext(string domain, string msgid, string msgid_plural, number n)",
        domain=D, doc="Plural-aware translation in DOMAIN.")
