"""Body built-ins: body chunks in prog body, body replacement."""
from .registry import planned

D = "body"

planned("string body_string(pointer text, number count)", domain=D, handlers=("body",),
        doc="The first COUNT bytes of the body chunk TEXT as a string.")
planned("boolean body_has_nulls(pointer text, number count)", domain=D, handlers=("body",),
        doc="True if the first COUNT bytes of the body chunk TEXT contain a NUL byte.")
planned("void replbody(string text)", domain=D, doc="Replace the message body with TEXT.")
planned("void replbody_fd(number fd)", domain=D,
        doc="Replace the message body with the contents read from FD.")
