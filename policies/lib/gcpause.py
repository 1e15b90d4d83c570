"""The cyclic garbage collector paused around large, acyclic work (reading or judging a state)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

#: allocations during a pause above which the survivors are frozen rather than collected
FREEZE_FROM: Final = 200_000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration: parsing a state, scanning it and judging
    it allocate millions of acyclic containers next to a large live heap, and each full collection
    would walk all of it again (half of a 10k-resource check). Nothing built here relies on the
    collector; it is switched back on (if it was on) afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] >= FREEZE_FROM:
            # A large input: the objects still alive (the state, the findings) are moved out of
            # the collector's generations instead of being walked once more on the way out (a
            # second or more on a 10k-resource state). Reference counting frees them as usual.
            gc.freeze()
        gc.enable()
