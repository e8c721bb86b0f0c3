"""A day compressed into the run: one factor for traffic and faults alike.

The run's traffic window stands for 24 hours, so the compression factor is
86,400 s / window. Messages arrive with the shape of a support day (quiet
at night, a morning peak, an evening tail), and every fault is placed at a
compressed hour and lasts a compressed time:

- a worker pod is killed every two compressed hours, mostly with SIGTERM (a
  rolling update, an eviction) and sometimes with `kill -9` (an OOM kill, a
  lost node); it comes back after the seconds a process needs to start;
- Twilio is down for one compressed hour;
- one broker of the three is stopped for two compressed hours (its
  leaderships move to the others, as on a controlled shutdown);
- the whole cluster blips for 3 s with failed requests around it, and
  PostgreSQL restarts.

Two faults keep their real length because their length is set by software,
not by the clock of the day: the 3 s broker blip (what clients' own timeouts
must ride out) and the PostgreSQL restart (as long as the server takes). The
report says which is which."""

from __future__ import annotations

import random
from dataclasses import dataclass

DAY_S = 86_400.0
# Share of a day's messages starting in each hour (0-23), a business day
# with an evening tail; the numbers are relative weights.
HOURLY = (1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 8, 7, 8, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1)
# How many pod kills in every one with kill -9 (the rest are SIGTERM).
KILL9_EVERY = 4


@dataclass
class Fault:
    """One step of the fault schedule."""
    kind: str  # "pod kill", "twilio down", "broker stopped", "broker blip", "postgres restart"
    hour: float  # compressed hour of the day it starts
    at_s: float  # seconds into the run
    seconds: float  # how long it lasts (0: instantaneous)
    compressed: bool  # whether its length is compressed by the factor
    detail: dict

    def as_json(self) -> dict:
        return {"kind": self.kind, "hour": round(self.hour, 2), "at_s": round(self.at_s, 1),
                "seconds": round(self.seconds, 1), "compressed": self.compressed,
                **self.detail}


class Day:
    def __init__(self, window_s: float):
        self.window_s = window_s
        self.factor = DAY_S / window_s

    def seconds(self, hours: float) -> float:
        """Run seconds of `hours` compressed hours."""
        return hours * 3600.0 / self.factor

    def hour_of(self, run_s: float) -> float:
        return run_s * self.factor / 3600.0

    def arrival(self, rng: random.Random, until_hour: float = 24.0) -> float:
        """A moment of the run (seconds) drawn with the day's shape, before
        `until_hour`."""
        hours = [h for h in range(24) if h < until_hour]
        hour = rng.choices(hours, weights=[HOURLY[h] for h in hours])[0]
        start = float(hour)
        end = min(hour + 1.0, until_hour)
        return self.seconds(rng.uniform(start, end))

    def faults(self, rng: random.Random, workers: int, brokers: int,
               kill_every_hours: float = 2.0) -> list[Fault]:
        """The schedule: pod kills every `kill_every_hours`, one kill in
        KILL9_EVERY a kill -9, and the other faults at fixed hours."""
        faults: list[Fault] = []
        hour = kill_every_hours / 2
        kills = 0
        while hour < 24.0:
            kills += 1
            signal = "kill -9" if kills % KILL9_EVERY == 0 else "SIGTERM"
            faults.append(Fault("pod kill", hour, self.seconds(hour), 0.0, True,
                                {"signal": signal, "worker": rng.randrange(workers) + 1}))
            hour += kill_every_hours
        faults.append(Fault("twilio down", 7.5, self.seconds(7.5), self.seconds(1.0), True, {}))
        if brokers > 1:
            faults.append(Fault("broker stopped", 10.3, self.seconds(10.3), self.seconds(2.0),
                                True, {"broker": rng.randrange(brokers) + 1}))
        faults.append(Fault("broker blip", 14.3, self.seconds(14.3), 3.0, False,
                            {"failed_requests": {"produce": 5, "fetch": 5, "commit": 3}}))
        faults.append(Fault("postgres restart", 17.3, self.seconds(17.3), 0.0, False, {}))
        faults.sort(key=lambda f: f.at_s)
        return faults
