"""Mail messages for mfl: the raw model, MIME views, modification, Mailutils views.

* ``Message`` (``model``): a message kept as received -- header fields as
  exact (name, raw value) pairs, body bytes as is, CR LF or LF -- with lazy
  MIME parts.  ``Message.parse(data)``, ``Message.load(path)``,
  ``message.to_bytes()`` / ``write_to(fp)`` (byte-exact).
* ``Blob`` (``blob``): bounded-memory byte storage (large bodies spill to a
  temporary file).
* ``apply`` / ``Edit`` / ``Envelope`` (``edit``): apply a modification queue
  (header add/insert/replace/delete with the MTA's 1-based per-name index,
  body replacement, envelope changes).
* ``mu``, ``mailbox``, ``codec``: what mailfromd's message, mailbox and
  header built-ins see (GNU Mailutils' rules), used by ``mfl.builtins``.

Nothing here imports the interpreter.
"""
from .blob import Blob, SPILL_THRESHOLD  # noqa: F401
from .edit import Edit, Envelope, apply  # noqa: F401
from .model import Field, Message, parse_content_type  # noqa: F401
