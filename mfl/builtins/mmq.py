"""Message modification queue."""
from .registry import planned

D = "mmq"

planned("void mmq_purge()", domain=D,
        doc="Drop all queued header/body/envelope modifications.")
