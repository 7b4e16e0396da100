"""Outbound calls: plain dialling, and Exotel's "connect two numbers" and "connect to flow".

The leg statuses each path leaves on `call.ended` follow the rows of seed 003's two
outbound tables; `flows.py` writes them at the end of the call.
"""

from __future__ import annotations

from typing import Any

from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    CallStarted,
    Direction,
    EndedBy,
    Flow,
    Greeting,
    LegStatus,
    PresenceStatus,
)
from monitor.sim.flows import CallFlow
from monitor.sim.people import agent_phone, centre_number
from monitor.sim.state import AgentState, Phase, SimCall
from monitor.sim.truth import Kind


class Outbound(CallFlow):
    """Calls the centre makes."""

    def _outbound(self) -> None:
        b = self.b
        if self._chance(self.cfg.exotel_outbound_share):
            kind = Kind.CONNECT_TWO_NUMBERS if self._chance(0.5) else Kind.CONNECT_TO_FLOW
        else:
            kind = Kind.OUTBOUND
        agent = None
        if kind is not Kind.CONNECT_TO_FLOW:
            agent = next(iter(self.idle_all), None)
            if agent is None:
                return  # nobody free to make the call: the dialler waits for the next slot
        call = self._new_call(kind)
        customer = self._caller()
        started: dict[str, Any] = {
            "type": "call.started",
            "call_id": call.id,
            "ts": self.ts(),
            "direction": Direction.OUTBOUND,
            "to": customer,
        }
        call.phase = Phase.DIALLING
        if agent is not None:
            self._leave_idle(agent)
            agent.state = AgentState.OUTBOUND
            agent.call = call
            call.agent = agent
            self._presence(agent, PresenceStatus.BUSY, "outbound")
        if kind is Kind.OUTBOUND:
            assert agent is not None
            self._emit(CallStarted(**started, from_=agent_phone(agent.index)))
            r = self.rng.random()
            if r < b.p_customer_answers:
                self._later(call, self._uniform(b.customer_answer_s), self._customer_answers)
            elif r < b.p_customer_answers + 0.1:
                self._later(call, self._uniform((2.0, 5.0)), self._dial_ends_busy)
            elif r < b.p_customer_answers + 0.15:
                self._later(call, self._uniform((5.0, 25.0)), self._agent_gives_up)
            else:
                self._later(call, self._ms(b.dial_timeout_s), self._dial_ends_no_answer)
            return
        if kind is Kind.CONNECT_TWO_NUMBERS:
            assert agent is not None
            self._emit(
                CallStarted(
                    **started, from_=agent_phone(agent.index), flow=Flow.CONNECT_TWO_NUMBERS
                )
            )
            # Leg 1 is the agent's own phone.
            self._emit(
                AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=agent.name)
            )
        else:
            number = centre_number(self.queues.index(call.queue))
            self._emit(CallStarted(**started, from_=number, flow=Flow.CONNECT_TO_FLOW))
        self._first_leg(call)

    def _first_leg(self, call: SimCall) -> None:
        r = self.rng.random()
        fails = (
            (0.025, LegStatus.CANCELED, (0.5, 2.0)),
            (0.03, LegStatus.FAILED, (1.0, 4.0)),
            (0.05, LegStatus.BUSY, (1.0, 5.0)),
            (0.08, LegStatus.NO_ANSWER, (self.b.dial_timeout_s, self.b.dial_timeout_s)),
        )
        acc = 0.0
        for p, status, delay in fails:
            acc += p
            if r < acc:
                call.leg1 = status
                self._later(call, self._uniform(delay), self._first_leg_fails)
                return
        if call.kind is Kind.CONNECT_TWO_NUMBERS:
            self._later(call, self._uniform((2.0, 6.0)), self._second_leg)
        else:
            self._later(call, self._uniform(self.b.customer_answer_s), self._customer_in_flow)

    def _first_leg_fails(self, call: SimCall) -> None:
        agent = call.agent
        if call.kind is Kind.CONNECT_TWO_NUMBERS and agent is not None:
            if call.leg1 is LegStatus.BUSY:
                self._emit(
                    AgentRejected(
                        type="agent.rejected", call_id=call.id, ts=self.ts(), agent=agent.name
                    )
                )
            elif call.leg1 is LegStatus.NO_ANSWER:
                self._emit(
                    AgentNoAnswer(
                        type="agent.no_answer", call_id=call.id, ts=self.ts(), agent=agent.name
                    )
                )
        cause = {
            LegStatus.CANCELED: "canceled",
            LegStatus.FAILED: "first leg unreachable",
            LegStatus.BUSY: "first leg busy",
            LegStatus.NO_ANSWER: "first leg no answer",
        }[call.leg1]  # type: ignore[index]
        self._end(call, EndedBy.SYSTEM, cause)

    def _second_leg(self, call: SimCall) -> None:
        """Click-to-call: the agent picked up, now Exotel dials the customer."""
        b = self.b
        if self._chance(0.05):
            # The agent hangs up before Exotel starts dialling: no second leg.
            self._later(call, self._uniform((0.5, 2.0)), self._agent_gives_up)
            return
        call.presented = True
        r = self.rng.random()
        if r < b.p_customer_answers:
            self._later(call, self._uniform(b.customer_answer_s), self._customer_answers)
            return
        rest = (r - b.p_customer_answers) / (1 - b.p_customer_answers)
        if rest < 0.35:
            call.last_dial = LegStatus.NO_ANSWER
            self._later(call, self._ms(b.dial_timeout_s), self._dial_ends_no_answer)
        elif rest < 0.6:
            call.last_dial = LegStatus.BUSY
            self._later(call, self._uniform((2.0, 5.0)), self._dial_ends_busy)
        elif rest < 0.8:
            call.last_dial = LegStatus.FAILED
            self._later(call, self._uniform((1.0, 4.0)), self._dial_fails)
        else:
            call.last_dial = LegStatus.CANCELED
            self._later(call, self._uniform((5.0, 25.0)), self._agent_gives_up)

    def _customer_answers(self, call: SimCall) -> None:
        agent = call.agent
        assert agent is not None
        call.answered = True
        call.last_dial = LegStatus.COMPLETED
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        agent.state = AgentState.TALKING
        self._later(call, self._talk_time(), self._talk_ends)

    def _dial_ends_busy(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "busy")

    def _dial_ends_no_answer(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "no answer")

    def _dial_fails(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "unreachable")

    def _agent_gives_up(self, call: SimCall) -> None:
        self._end(call, EndedBy.AGENT, "agent hung up")

    def _customer_in_flow(self, call: SimCall) -> None:
        """Connect to flow: the customer picked up and now hears the centre's flow."""
        self._enter(call, Phase.FRONT)
        self._start_patience(call)
        if self._chance(0.8):
            self._emit(self._greeting(call, Greeting.WELCOME))
            self._later(call, self._uniform(self.b.welcome_s), self._towards_queue)
        else:
            self._towards_queue(call)
