"""DKIM signing and verification."""
from .registry import planned, variable

D = "dkim"

planned("number dkim_verify(number msg)", domain=D,
        doc="Verify the DKIM signature of message MSG: DKIM_VERIFY_OK, _PERMFAIL or _TEMPFAIL.")
planned("void dkim_sign(string d, string s, string keyfile; string ch, string cb, "
        "string headers, string algo)", domain=D, handlers=("eom",),
        doc="Sign the current message for domain D with selector S and the key in KEYFILE.")

variable("string dkim_explanation", domain=D, status="planned", default="",
         doc="Text explaining the last dkim_verify result.")
variable("number dkim_explanation_code", domain=D, status="planned", default=0,
         doc="Code of the last dkim_verify explanation (DKIM_EXPL_*).")
variable("string dkim_signing_algorithm", domain=D, status="planned", default="",
         doc="Algorithm of the verified signature (rsa-sha1 or rsa-sha256).")
variable("string dkim_verified_signature", domain=D, status="planned", default="",
         doc="The verified DKIM-Signature header, unfolded, whitespace removed.")
variable("number dkim_sendmail_commaize", domain=D, status="planned", default=1,
         doc="dkim_sign: reformat address headers the way Sendmail does first.")
