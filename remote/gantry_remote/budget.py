"""A run's budget (plan "budget"), enforced by the supervisor: the laptop may be asleep.

{"limit": > 0, "unit": "usd" | "hours", "price_per_hour": >= 0 (needed for usd: the desktop passes the
instance's price at launch), "on_limit": "stop" | "warn"}.

Spent time is the run's *active* time: while its supervisor runs and at least one of its games is
running or waiting out a restart backoff (the run holds the machine). Paused games alone, a stopped
run and the time until a stopped run is resumed do not count. Cost = active hours x price_per_hour.
The projection to the finish is spent / fraction of all target episodes reached, once 2% is reached.
"""
import math
from typing import Any, Dict, Optional

from .paths import UserError

UNITS = ("usd", "hours")
ON_LIMIT = ("stop", "warn")
# Below this fraction of the episodes, a projection is noise.
MIN_FRACTION_FOR_PROJECTION = 0.02
# A supervisor tick longer than this (the host was suspended, the supervisor stopped with SIGSTOP)
# is not counted as active time beyond this much.
MAX_TICK_S = 120.0


def _bad(message: str) -> UserError:
    return UserError("bad_plan", message + " Fix the plan file and start again.")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate(data: Any) -> Optional[Dict[str, Any]]:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _bad("\"budget\" must be an object like {\"limit\": 50, \"unit\": \"usd\", \"price_per_hour\": 2.5, \"on_limit\": \"stop\"}.")
    unknown = sorted(set(data) - {"limit", "unit", "price_per_hour", "on_limit"})
    if unknown:
        raise _bad("budget: unknown field(s) %s; use limit, unit, price_per_hour, on_limit." % ", ".join(unknown))
    limit, unit = data.get("limit"), data.get("unit", "usd")
    if not _number(limit) or limit <= 0:
        raise _bad("budget.limit must be a number > 0 (got %r)." % (limit,))
    if unit not in UNITS:
        raise _bad("budget.unit must be \"usd\" or \"hours\" (got %r)." % (unit,))
    price = data.get("price_per_hour")
    if price is not None and (not _number(price) or price < 0):
        raise _bad("budget.price_per_hour must be a number >= 0 (got %r)." % (price,))
    if unit == "usd" and price is None:
        raise _bad("A budget in usd needs price_per_hour (the instance's hourly price); set it, or give the budget in hours.")
    on_limit = data.get("on_limit", "stop")
    if on_limit not in ON_LIMIT:
        raise _bad("budget.on_limit must be \"stop\" (stop cleanly at the limit) or \"warn\" (got %r)." % (on_limit,))
    out: Dict[str, Any] = {"limit": limit, "unit": unit, "on_limit": on_limit}
    if price is not None:
        out["price_per_hour"] = price
    return out


def spent(plan_budget: Dict[str, Any], active_s: float) -> float:
    """What the active time has cost, in the budget's unit."""
    hours = active_s / 3600.0
    return hours * float(plan_budget.get("price_per_hour") or 0) if plan_budget["unit"] == "usd" else hours


def projected(spent_so_far: float, episodes: int, target: int) -> Optional[float]:
    """Spent at the finish if the rest goes as it went so far; None while too little is done to tell."""
    if target <= 0:
        return None
    fraction = min(1.0, episodes / float(target))
    if fraction < MIN_FRACTION_FOR_PROJECTION:
        return None
    return spent_so_far / fraction


def status(plan_budget: Dict[str, Any], spent_now: float, projected_total: Optional[float]) -> str:
    """ok | over_projection (warn early) | reached (the limit)."""
    if spent_now >= plan_budget["limit"]:
        return "reached"
    if projected_total is not None and projected_total > plan_budget["limit"]:
        return "over_projection"
    return "ok"


class Meter:
    """Active time, accumulated tick by tick into a dict kept in state.json (so it survives a
    supervisor restart): {"active_s", "accounted_ts", "status"}."""

    def __init__(self, record: Dict[str, Any], now: float, trainers_ran_meanwhile: bool) -> None:
        record.setdefault("active_s", 0.0)
        record.setdefault("status", "ok")
        self.record = record
        # After a supervisor restart that adopted live trainers, they ran (and the machine billed)
        # while no supervisor watched: that gap counts. Otherwise nothing ran: it does not.
        last = record.get("accounted_ts")
        self.last_ts = last if trainers_ran_meanwhile and isinstance(last, (int, float)) else now
        self._gap_uncapped = trainers_ran_meanwhile
        record["accounted_ts"] = self.last_ts

    def tick(self, now: float, active: bool, gap_cap_s: float = MAX_TICK_S) -> None:
        dt = max(0.0, now - self.last_ts)
        if active or self._gap_uncapped:
            self.record["active_s"] = self.record["active_s"] + (dt if self._gap_uncapped else min(dt, gap_cap_s))
        self._gap_uncapped = False
        self.last_ts = now
        self.record["accounted_ts"] = now

    @property
    def active_s(self) -> float:
        return float(self.record["active_s"])
