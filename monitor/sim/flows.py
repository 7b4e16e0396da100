"""The call flow of inbound calls: front, queue, agents rung in turn, talk, voicemail, end.

Each step of a call is scheduled with the call's `stamp`; a step from a phase the call
has since left is dropped, which is how a caller hanging up cancels what was coming.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    CallEnded,
    CallStarted,
    CallTransferred,
    Direction,
    EndedBy,
    Greeting,
    GreetingStarted,
    IvrEntered,
    LegStatus,
    PresenceStatus,
    QueueEntered,
    VoicemailBeep,
    VoicemailStarted,
    VoicemailVia,
)
from monitor.sim.agents import Staff
from monitor.sim.config import SimConfig
from monitor.sim.people import caller_number, centre_number
from monitor.sim.state import (
    ABANDONABLE,
    EXOTEL_DIALLED,
    SPOT,
    AgentState,
    Phase,
    SimAgent,
    SimCall,
)
from monitor.sim.truth import Kind, Story, truth_of

RECEPTION = "Reception"


class CallFlow(Staff):
    """Inbound calls through the centre, and the end of every call."""

    def __init__(self, config: SimConfig) -> None:
        super().__init__(config)
        self.calls = 0
        self.open_calls = 0
        self.waiting: dict[str, dict[SimCall, None]] = {q: {} for q in self.queues}
        self._waiting_since: dict[SimCall, int] = {}

    @override
    def _queue_emptied(self, queue: str) -> None:
        # Nobody left to answer: the queue sends its waiting callers away.
        for call in [c for c in self.waiting[queue] if c.phase is Phase.QUEUED]:
            self._nobody_logged_in(call)

    # --- matching calls and agents -----------------------------------------------------

    def _may_ring(self, call: SimCall, agent: SimAgent) -> bool:
        declined = call.declined.get(agent)
        return declined is None or self.now - declined >= self._ms(self.b.decline_cooldown_s)

    def _offer_call(self, call: SimCall) -> None:
        """A call is waiting: ring the longest-idle agent of its queue who may take it."""
        if call.phase is not Phase.QUEUED:
            return
        for agent in self.idle[call.queue]:
            if self._may_ring(call, agent):
                self._ring(call, agent)
                return

    @override
    def _offer_agent(self, agent: SimAgent) -> None:
        """An agent is free: ring them with the longest-waiting call they may take."""
        best: SimCall | None = None
        best_at = 0
        for q in agent.queues:
            for call in self.waiting[q]:
                if call.phase is Phase.QUEUED and self._may_ring(call, agent):
                    queued_at = self._waiting_since[call]
                    if best is None or queued_at < best_at:
                        best, best_at = call, queued_at
                    break
        if best is not None:
            self._ring(best, agent)

    def _new_call(self, kind: Kind) -> SimCall:
        self.calls += 1
        self.open_calls += 1
        queue = self.rng.choices(self.queues, self._queue_weights)[0]
        return SimCall(id=f"{self.cfg.id_prefix}{self.calls:06d}", kind=kind, queue=queue)

    def _caller(self) -> str:
        return caller_number(self.rng.randrange(1000))

    def _start_patience(self, call: SimCall) -> None:
        self._schedule(self._ms(self.rng.expovariate(1 / self.b.patience_mean_s)), self._quit, call)

    def _quit(self, call: SimCall) -> None:
        """The caller's patience ran out: hang up wherever the call is, if it is waiting."""
        if call.phase in ABANDONABLE and not call.answered:
            self._end(call, EndedBy.CALLER)

    def _inbound(self) -> None:
        exotel = self._chance(self.cfg.exotel_share)
        call = self._new_call(Kind.EXOTEL_INBOUND if exotel else Kind.INBOUND)
        call.after_hours = not self.is_open(self.now)
        started: dict[str, Any] = {
            "type": "call.started",
            "call_id": call.id,
            "ts": self.ts(),
            "direction": Direction.INBOUND,
            "from_": self._caller(),
            "to": centre_number(self.queues.index(call.queue)),
        }
        if call.after_hours:
            started["after_hours"] = True
        self._emit(CallStarted(**started))
        self._start_patience(call)
        if call.after_hours and self._chance(self.b.p_after_hours_quit):
            self._schedule(self._uniform((1.0, 6.0)), self._quit, call)
        welcome = call.after_hours or self._chance(self.b.p_welcome)
        if welcome:
            self._emit(self._greeting(call, Greeting.WELCOME))
            self._later(call, self._uniform(self.b.welcome_s), self._after_welcome)
        else:
            self._after_welcome(call)

    def _greeting(self, call: SimCall, greeting: Greeting) -> GreetingStarted:
        return GreetingStarted(
            type="greeting.started", call_id=call.id, ts=self.ts(), greeting=greeting
        )

    def _after_welcome(self, call: SimCall) -> None:
        if self._chance(self.b.p_ivr):
            self._enter(call, Phase.FRONT)
            call.had_ivr = True
            menu = "after hours" if call.after_hours else "main"
            self._emit(IvrEntered(type="ivr.entered", call_id=call.id, ts=self.ts(), menu=menu))
            self._later(call, self._uniform(self.b.ivr_s), self._ivr_choice)
        else:
            self._ivr_choice(call)

    def _ivr_choice(self, call: SimCall) -> None:
        b = self.b
        r = self.rng.random()
        if call.had_ivr and r < b.p_ivr_timeout:
            self._end(call, EndedBy.SYSTEM, "IVR timeout: no input")
        elif call.after_hours:
            self._voicemail(call, VoicemailVia.DIRECT)
        elif call.had_ivr and call.kind is Kind.INBOUND and r < b.p_ivr_timeout + b.p_ivr_reception:
            self._reception(call)
        elif call.had_ivr and r < b.p_ivr_timeout + b.p_ivr_reception + b.p_ivr_voicemail:
            self._voicemail(call, VoicemailVia.DIRECT)
        else:
            self._towards_queue(call)

    def _reception(self, call: SimCall) -> None:
        """IVR option 'reception': a transfer to the front desk, which is not a queue."""
        self._enter(call, Phase.TRANSFER)
        self._emit(
            CallTransferred(type="call.transferred", call_id=call.id, ts=self.ts(), to="reception")
        )
        ring = self._uniform(self.b.reception_ring_s)
        if self._chance(self.b.reception_answers):
            self._later(call, ring, self._reception_answers)
        elif self._chance(0.3):
            self._schedule(self._uniform((5.0, 40.0)), self._quit, call)
            self._later(call, 45_000, self._transfer_failed)
        else:
            self._later(call, 45_000, self._transfer_failed)

    def _transfer_failed(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "transfer not answered")

    def _reception_answers(self, call: SimCall) -> None:
        call.answered = True
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=RECEPTION)
        )
        self._later(call, self._talk_time(), self._talk_ends)

    def _towards_queue(self, call: SimCall) -> None:
        if self._chance(self.b.p_available_greeting):
            self._enter(call, Phase.AVAILABLE_GREETING)
            self._emit(self._greeting(call, Greeting.AVAILABLE_AGENTS))
            self._later(call, self._uniform(self.b.available_greeting_s), self._enter_queue)
        else:
            self._enter_queue(call)

    # --- call flow: queue and agents ----------------------------------------------------

    def _enter_queue(self, call: SimCall) -> None:
        self._enter(call, Phase.QUEUED)
        call.stint += 1
        self._emit(
            QueueEntered(type="queue.entered", call_id=call.id, ts=self.ts(), queue=call.queue)
        )
        if self.logged_in[call.queue] == 0:
            self._later(call, self._uniform((1.0, 4.0)), self._nobody_logged_in)
            return
        self.waiting[call.queue][call] = None
        self._waiting_since[call] = self.now
        exotel = call.kind in EXOTEL_DIALLED
        timeout = self.b.exotel_queue_timeout_s if exotel else self.b.queue_timeout_s
        self._schedule(self._ms(timeout), self._queue_timeout, call, call.stint)
        if call.kind is Kind.INBOUND and self._chance(self.b.p_voicemail_choice):
            delay = self._ms(self.rng.expovariate(1 / self.b.voicemail_choice_mean_s))
            self._schedule(delay, self._voicemail_choice, call, call.stint)
        self._offer_call(call)

    def _leave_queue(self, call: SimCall) -> None:
        self.waiting[call.queue].pop(call, None)
        self._waiting_since.pop(call, None)

    def _nobody_logged_in(self, call: SimCall) -> None:
        call.all_agents_busy = call.kind is Kind.EXOTEL_INBOUND and call.last_dial is None
        self._end(call, EndedBy.SYSTEM, "no agent logged in")

    def _queue_timeout(self, call: SimCall, stint: int) -> None:
        if call.stint != stint or call.answered:
            return
        if call.phase is Phase.RINGING:
            call.timed_out = True
        elif call.phase is Phase.QUEUED:
            self._time_out(call)

    def _time_out(self, call: SimCall) -> None:
        if call.kind is Kind.INBOUND and self._chance(self.b.p_timeout_to_voicemail):
            self._voicemail(call, VoicemailVia.QUEUE)
            return
        call.all_agents_busy = call.kind is Kind.EXOTEL_INBOUND and call.last_dial is None
        self._end(call, EndedBy.SYSTEM, "queue timeout")

    def _voicemail_choice(self, call: SimCall, stint: int) -> None:
        if call.stint == stint and call.phase is Phase.QUEUED:
            self._voicemail(call, VoicemailVia.QUEUE)

    def _retry(self, call: SimCall) -> None:
        self._offer_call(call)

    def _ring(self, call: SimCall, agent: SimAgent) -> None:
        b = self.b
        self._leave_idle(agent)
        agent.state = AgentState.RINGING
        agent.call = call
        call.agent = agent
        call.presented = True
        self._enter(call, Phase.RINGING)
        self._emit(
            AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        r = self.rng.random()
        if call.kind in EXOTEL_DIALLED and r < b.p_phone_failed:
            self._later(call, self._uniform((0.5, 2.0)), self._phone_failed)
        elif r < b.p_phone_failed + b.p_reject:
            self._later(call, self._uniform(b.reject_s), self._rejected)
        elif r < b.p_phone_failed + b.p_reject + b.p_no_answer:
            self._later(call, self._ms(b.ring_timeout_s), self._no_answer)
        else:
            self._later(call, self._uniform(b.answer_s), self._answered)

    def _phone_failed(self, call: SimCall) -> None:
        self._declined(call, LegStatus.FAILED, AgentNoAnswer)

    def _rejected(self, call: SimCall) -> None:
        self._declined(call, LegStatus.BUSY, AgentRejected)

    def _no_answer(self, call: SimCall) -> None:
        self._declined(call, LegStatus.NO_ANSWER, AgentNoAnswer)

    def _declined(
        self, call: SimCall, status: LegStatus, kind: type[AgentRejected] | type[AgentNoAnswer]
    ) -> None:
        agent = call.agent
        assert agent is not None
        if kind is AgentRejected:
            self._emit(
                AgentRejected(
                    type="agent.rejected", call_id=call.id, ts=self.ts(), agent=agent.name
                )
            )
        else:
            self._emit(
                AgentNoAnswer(
                    type="agent.no_answer", call_id=call.id, ts=self.ts(), agent=agent.name
                )
            )
        call.last_dial = status
        call.agent = None
        call.declined[agent] = self.now
        call.dials += 1
        self._enter(call, Phase.QUEUED)
        if call.kind in EXOTEL_DIALLED and call.dials >= self.b.exotel_dial_attempts:
            # Exotel's connect applet has run through its numbers: the flow ends.
            self._end(call, EndedBy.SYSTEM, "no agent answered")
        elif call.timed_out:
            self._time_out(call)
        else:
            self._offer_call(call)
            if call.phase is Phase.QUEUED:
                self._schedule(self._ms(self.b.decline_cooldown_s), self._retry, call)
        # The agent goes on to another call (not this one, for a while).
        self._free(agent, announce=False)

    def _answered(self, call: SimCall) -> None:
        agent = call.agent
        assert agent is not None
        self._leave_queue(call)
        call.answered = True
        call.last_dial = LegStatus.COMPLETED
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        agent.state = AgentState.TALKING
        self._presence(agent, PresenceStatus.BUSY)
        talk = call.talk_left or self._talk_time()
        call.talk_left = 0
        if (
            not call.transferred
            and call.kind is not Kind.CONNECT_TWO_NUMBERS
            and self._chance(self.b.p_transfer)
        ):
            part = round(talk * self.rng.uniform(0.3, 0.7))
            call.talk_left = talk - part
            self._later(call, part, self._transfer)
        else:
            self._later(call, talk, self._talk_ends)

    def _transfer(self, call: SimCall) -> None:
        """A warm transfer to a free colleague of another queue, if there is one."""
        agent = call.agent
        assert agent is not None
        colleague = next(
            (a for a in self.idle_all if a is not agent and call.queue not in a.queues), None
        )
        if colleague is None:
            self._later(call, call.talk_left, self._talk_ends)
            call.talk_left = 0
            return
        call.transferred = True
        self._emit(
            CallTransferred(
                type="call.transferred", call_id=call.id, ts=self.ts(), to=colleague.name
            )
        )
        self._wrap_up(agent)
        self._leave_idle(colleague)
        colleague.state = AgentState.RINGING
        colleague.call = call
        call.agent = colleague
        self._enter(call, Phase.RINGING)
        self._emit(
            AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=colleague.name)
        )
        self._later(call, self._uniform((2.0, 6.0)), self._answered)

    def _talk_ends(self, call: SimCall) -> None:
        by = EndedBy.AGENT if self._chance(self.b.p_agent_hangs_up) else EndedBy.CALLER
        self._end(call, by)

    # --- voicemail ----------------------------------------------------------------------

    def _voicemail(self, call: SimCall, via: VoicemailVia) -> None:
        self._leave_queue(call)
        call.voicemail_from_queue = via is VoicemailVia.QUEUE
        self._enter(call, Phase.VOICEMAIL_GREETING)
        self._emit(
            VoicemailStarted(type="voicemail.started", call_id=call.id, ts=self.ts(), via=via)
        )
        greeting = self._uniform(self.b.voicemail_greeting_s)
        if self._chance(self.b.p_voicemail_refuse):
            self._schedule(round(greeting * self.rng.uniform(0.1, 0.9)), self._quit, call)
        self._later(call, greeting, self._beep)

    def _beep(self, call: SimCall) -> None:
        call.heard_beep = True
        self._enter(call, Phase.RECORDING)
        self._emit(VoicemailBeep(type="voicemail.beep", call_id=call.id, ts=self.ts()))
        if self._chance(self.b.p_message_limit):
            self._later(call, self._ms(self.b.message_limit_s), self._message_cut)
        else:
            self._later(call, self._uniform(self.b.message_s), self._message_done)

    def _message_cut(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "recording limit")

    def _message_done(self, call: SimCall) -> None:
        self._end(call, EndedBy.CALLER)

    # --- the end of a call --------------------------------------------------------------

    def _end(self, call: SimCall, by: EndedBy, cause: str | None = None) -> None:
        previous = call.phase
        agent = call.agent
        if previous is Phase.RINGING and call.kind in EXOTEL_DIALLED:
            # The caller dropped while Exotel was dialling the agent.
            call.last_dial = LegStatus.CANCELED
        story = Story(
            kind=call.kind,
            spot=SPOT[previous],
            by_caller=by is EndedBy.CALLER,
            after_hours=call.after_hours,
            answered=call.answered,
            presented_to_agent=call.presented,
            heard_beep=call.heard_beep,
            voicemail_from_queue=call.voicemail_from_queue,
            last_dial=call.last_dial,
            all_agents_busy=call.all_agents_busy,
            leg1=call.leg1,
        )
        fields: dict[str, Any] = {
            "type": "call.ended",
            "call_id": call.id,
            "ts": self.ts(),
            "by": by,
            "truth": truth_of(story),
        }
        if cause is not None:
            fields["cause"] = cause
        fields.update(self._legs(call))
        self._emit(CallEnded(**fields))
        self._enter(call, Phase.ENDED)
        self._leave_queue(call)
        self.open_calls -= 1
        call.agent = None
        if agent is not None:
            if previous is Phase.TALKING:
                self._wrap_up(agent)
            else:
                # A ring or a dial that came to nothing: straight back to work.
                self._free(agent, announce=agent.state is AgentState.OUTBOUND)

    def _legs(self, call: SimCall) -> dict[str, LegStatus | None]:
        """Exotel's status fields for the end of this call (none for other calls)."""
        kind = call.kind
        if kind is Kind.EXOTEL_INBOUND:
            overall = LegStatus.MISSED_CALL if call.all_agents_busy else LegStatus.COMPLETED
            dialled = None if call.all_agents_busy else call.last_dial
            return {"status": overall, "leg1_status": LegStatus.COMPLETED, "leg2_status": dialled}
        if kind not in (Kind.CONNECT_TWO_NUMBERS, Kind.CONNECT_TO_FLOW):
            return {}
        leg1 = call.leg1
        if leg1 is not LegStatus.COMPLETED:
            return {"status": leg1, "leg1_status": leg1, "leg2_status": None}
        leg2 = call.last_dial
        if kind is Kind.CONNECT_TO_FLOW or leg2 is LegStatus.COMPLETED:
            status: LegStatus | None = LegStatus.COMPLETED
        elif leg2 in (LegStatus.NO_ANSWER, LegStatus.BUSY, LegStatus.FAILED):
            status = leg2
        else:
            status = LegStatus.FAILED
        return {"status": status, "leg1_status": leg1, "leg2_status": leg2}
