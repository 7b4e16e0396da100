"""The people of the simulated centre: shifts, breaks, presence and who is free.

Every change an agent goes through is an `agent.status` event. Calls are matched to
free agents by the call flow (`flows.py`), which fills in the two hooks at the end.
"""

from __future__ import annotations

from classifier.schema import (
    AgentStatus,
    PresenceStatus,
)
from monitor.sim.config import SimConfig
from monitor.sim.people import agent_name
from monitor.sim.rota import shift_length, shift_starts
from monitor.sim.scheduler import DAY, HOUR, Scheduler
from monitor.sim.state import AgentState, SimAgent


class Staff(Scheduler):
    """Agents, their skills, shifts, pauses and presence."""

    def __init__(self, config: SimConfig) -> None:
        super().__init__(config)
        self.queues = config.queues
        self._queue_weights = config.weights()
        self.idle: dict[str, dict[SimAgent, None]] = {q: {} for q in self.queues}
        self.idle_all: dict[SimAgent, None] = {}
        self.logged_in: dict[str, int] = dict.fromkeys(self.queues, 0)
        self.agents = self._make_agents()
        self._shift_hours = shift_length(config.opens, config.closes)
        self._starts = (
            []
            if config.open_all_day
            else shift_starts(config.agents, config.opens, config.closes, config.hourly_profile())
        )

    # --- hooks the call flow fills in ---------------------------------------------------

    def _offer_agent(self, agent: SimAgent) -> None:
        """An agent is free: give them a waiting call, if any."""
        raise NotImplementedError

    def _queue_emptied(self, queue: str) -> None:
        """The last agent of a queue logged out."""
        raise NotImplementedError

    def _presence(self, agent: SimAgent, status: PresenceStatus, reason: str | None = None) -> None:
        if reason is None:
            event = AgentStatus(type="agent.status", ts=self.ts(), agent=agent.name, status=status)
        else:
            event = AgentStatus(
                type="agent.status", ts=self.ts(), agent=agent.name, status=status, reason=reason
            )
        self._emit(event)

    # --- agents ------------------------------------------------------------------------

    def _make_agents(self) -> list[SimAgent]:
        n, weights = self.cfg.agents, self._queue_weights
        total = sum(weights) or 1.0
        bounds, acc = [], 0.0
        for w in weights:
            acc += w / total
            bounds.append(acc)
        agents = []
        for i in range(n):
            spot = (i + 0.5) / n
            primary = next((k for k, b in enumerate(bounds) if spot < b), len(bounds) - 1)
            skills = [self.queues[primary]]
            if len(self.queues) > 1 and self._chance(0.4):
                skills.append(self.queues[(primary + 1) % len(self.queues)])
            agents.append(SimAgent(index=i, name=agent_name(i), queues=tuple(skills)))
        return agents

    def _plan_day(self, day: int) -> None:
        """Lay out one day of shifts and breaks, then plan the next day at midnight."""
        midnight = self._first_midnight + day * DAY
        b = self.b
        for agent in self.agents:
            if self.cfg.open_all_day:
                if day == 0:
                    self._schedule(0, self._login, agent)
                first, last = midnight, midnight + DAY
            else:
                first, last = self._shift(agent, midnight)
                if last <= self.now:
                    continue
                self._schedule(first - self.now, self._login, agent)
                self._schedule(last - self.now, self._logout_due, agent)
            length = last - first
            if b.planned_breaks:
                for at, minutes, reason in (
                    (0.25, 15, "break"),
                    (0.5, 30, "lunch"),
                    (0.75, 15, "break"),
                ):
                    when = first + round(length * at) + self._uniform((-900, 900))
                    self._plan_pause(agent, when, reason, minutes * 60_000)
            if self._chance(b.p_extra_pause):
                when = first + round(length * self.rng.uniform(0.1, 0.9))
                reason = self.rng.choice(("training", "meeting", "admin"))
                self._plan_pause(agent, when, reason, self._uniform((600, 2700)))
        next_midnight = midnight + DAY
        if self.end is None or next_midnight < self.end:
            self._schedule(next_midnight - self.now, self._plan_day, day + 1)

    def _plan_pause(self, agent: SimAgent, when: int, reason: str, duration: int) -> None:
        # A break planned before the run began is not taken at its first instant.
        if when >= self.now:
            self._schedule(when - self.now, self._pause_due, agent, reason, duration)

    def _shift(self, agent: SimAgent, midnight: int) -> tuple[int, int]:
        """An agent's shift today: from the rota's start (or a few minutes late) for nine hours."""
        start_h = self._starts[agent.index]
        first = midnight + round(start_h * HOUR) + self._uniform((0, 600))
        last = midnight + round((start_h + self._shift_hours) * HOUR) + self._uniform((-600, 300))
        return first, last

    def _login(self, agent: SimAgent) -> None:
        if self.over or agent.state is not AgentState.OFFLINE:
            return
        agent.pending_logout = False
        for q in agent.queues:
            self.logged_in[q] += 1
        self._presence(agent, PresenceStatus.AVAILABLE, "login")
        self._become_idle(agent)

    def _logout_due(self, agent: SimAgent) -> None:
        if self.over or agent.state is AgentState.OFFLINE:
            return
        if agent.state is AgentState.IDLE:
            self._logout(agent)
        else:
            agent.pending_logout = True

    def _logout(self, agent: SimAgent) -> None:
        self._leave_idle(agent)
        agent.state = AgentState.OFFLINE
        agent.pending_logout = False
        agent.pending_pause = None
        self._presence(agent, PresenceStatus.OFFLINE, "logout")
        for q in agent.queues:
            self.logged_in[q] -= 1
            if self.logged_in[q] == 0:
                self._queue_emptied(q)

    def _pause_due(self, agent: SimAgent, reason: str, duration: int) -> None:
        if self.over or agent.state is AgentState.OFFLINE or agent.pending_logout:
            return
        if agent.state is AgentState.IDLE:
            self._pause(agent, reason, duration)
        elif agent.pending_pause is None and agent.state is not AgentState.PAUSED:
            agent.pending_pause = (reason, duration)

    def _pause(self, agent: SimAgent, reason: str, duration: int) -> None:
        self._leave_idle(agent)
        agent.state = AgentState.PAUSED
        agent.pending_pause = None
        self._presence(agent, PresenceStatus.PAUSED, reason)
        self._schedule(duration, self._pause_end, agent)

    def _pause_end(self, agent: SimAgent) -> None:
        if agent.state is not AgentState.PAUSED:
            return
        if agent.pending_logout:
            self._logout(agent)
            return
        self._presence(agent, PresenceStatus.AVAILABLE)
        self._become_idle(agent)

    def _free(self, agent: SimAgent, announce: bool) -> None:
        """The agent is done with a call (or a ring): log out, pause, or take the next."""
        agent.call = None
        if agent.pending_logout:
            agent.state = AgentState.IDLE
            self._logout(agent)
        elif agent.pending_pause is not None:
            agent.state = AgentState.IDLE
            self._pause(agent, *agent.pending_pause)
        else:
            if announce:
                self._presence(agent, PresenceStatus.AVAILABLE)
            self._become_idle(agent)

    def _become_idle(self, agent: SimAgent) -> None:
        agent.state = AgentState.IDLE
        for q in agent.queues:
            self.idle[q][agent] = None
        self.idle_all[agent] = None
        self._offer_agent(agent)

    def _leave_idle(self, agent: SimAgent) -> None:
        for q in agent.queues:
            self.idle[q].pop(agent, None)
        self.idle_all.pop(agent, None)

    def _wrap_up(self, agent: SimAgent) -> None:
        agent.call = None
        agent.state = AgentState.WRAP_UP
        self._presence(agent, PresenceStatus.WRAP_UP)
        self._schedule(self._uniform(self.b.wrap_up_s), self._wrap_end, agent)

    def _wrap_end(self, agent: SimAgent) -> None:
        if agent.state is AgentState.WRAP_UP:
            self._free(agent, announce=True)
