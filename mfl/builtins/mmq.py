"""Message modification queue."""
from .registry import builtin

D = "mmq"


@builtin("void mmq_purge()", domain=D)
def mmq_purge(rt):
    """Drop all queued header/body/envelope modifications."""
    rt.purge_mods()
