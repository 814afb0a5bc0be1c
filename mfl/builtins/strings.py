"""String built-ins: searching, slicing, case, quoting, formatting, sed/qr."""
from .registry import planned

D = "strings"

planned("string sed(string subject, string expr, ...)", domain=D,
        doc="Apply one or more sed-like s-expressions (s/re/repl/flags) to SUBJECT; "
            "compiled specially by mailfromd.")
planned("string qr(string str; string delim)", domain=D,
        doc="Quote regex metacharacters of STR (plus up to two DELIM characters) "
            "for the current regex flavour.")
planned("string escape(string str; string chars)", domain=D,
        doc="Backslash-escape the characters of CHARS (default: backslash and double quote) in STR.")
planned("string unescape(string str)", domain=D,
        doc="Undo backslash escaping in STR.")
planned("number index(string s, string t; number start)", domain=D,
        doc="Offset of the first occurrence of T in S (at or after START), or -1.")
planned("number rindex(string s, string t; number start)", domain=D,
        doc="Offset of the last occurrence of T in S (at or before START), or -1.")
planned("number length(string str)", domain=D, doc="Length of STR in bytes.")
planned("string dequote(string str)", domain=D,
        doc="STR without a balanced pair of surrounding angle brackets.")
planned("string replstr(string s, number n)", domain=D, doc="S repeated N times.")
planned("string revstr(string s)", domain=D, doc="S reversed.")
planned("string substr(string str, number start; number length)", domain=D,
        doc="LENGTH bytes of STR from offset START (to the end if omitted).")
planned("string substring(string str, number start, number end)", domain=D,
        doc="Bytes START..END of STR (END may be negative, counting from the end).")
planned("string tolower(string str)", domain=D, doc="STR in lower case.")
planned("string toupper(string str)", domain=D, doc="STR in upper case.")
planned("string ltrim(string str; string cset)", domain=D,
        doc="STR without leading whitespace (or characters from CSET).")
planned("string rtrim(string str; string cset)", domain=D,
        doc="STR without trailing whitespace (or characters from CSET).")
planned("number vercmp(string a, string b)", domain=D,
        doc="Compare version strings: negative, 0 or positive.")
planned("string sprintf(string format, ...)", domain=D,
        doc="printf-style formatting of the remaining arguments.")
