"""Volume cap: one order fills at most `broker.volume_cap` x the day's volume.

`allowed(ctx) -> int` shares (before lot rounding); reason `volume_cap` when
it binds. `NoVolumeCap` when the key is null.
"""
from __future__ import annotations

import math

from ashare_sim.execution.context import OrderContext
from ashare_sim.execution.orders import Reason


class VolumeCap:
    """At most `share` of the day's volume, split evenly among `crowd` funds trading the same names."""
    reason = Reason.VOLUME_CAP

    def __init__(self, share: float, crowd: int = 1):
        self.share = float(share)
        self.crowd = max(int(crowd), 1)

    def allowed(self, ctx: OrderContext) -> int:
        if math.isnan(ctx.volume):
            return 0
        return int(math.floor(ctx.volume * self.share / self.crowd + 1e-9))


class NoVolumeCap:
    reason = Reason.VOLUME_CAP

    def allowed(self, ctx: OrderContext) -> int:
        return UNLIMITED


UNLIMITED = 2 ** 62                       # shares: no cap binds


def volume_cap_model(share, crowd: int = 1):
    return NoVolumeCap() if share is None else VolumeCap(share, crowd)
