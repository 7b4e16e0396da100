"""Amazon Connect contact events (EventBridge) as schema v1 events.

Amazon Connect publishes a contact event to EventBridge at each step of a contact
(INITIATED, CONNECTED_TO_SYSTEM, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED); an
EventBridge API destination POSTs each one to our receiver. Fields follow the
admin guide's "Amazon Connect contact events" page (the data model and its two
samples are in ../shared/realdata/amazon-connect); `docs/sources.md` lists each
field used and its mapping.

EventBridge delivers "on a best effort basis", not in order, and retries. So the
mapping is cumulative and stateless: every event carries the contact's
timestamps so far (initiation, enqueue, connected to agent, disconnect), and each
delivery gives every event those timestamps attest, the same way each time. A
retried or late delivery only repeats events the hub already holds, which its
tracker ignores as exact duplicates; a DISCONNECTED that arrives first still
gives the whole call. The documentation itself spells keys in two cases
(``agentInfo`` and ``AgentInfo``), so keys are matched without regard to case.
"""

from __future__ import annotations

from typing import Any

from classifier.schema import MAX_TEXT, Event, EventError, event_from_dict
from monitor.sources.delivery import BadDelivery, NotShown, vendor_time

#: Prefix of every Amazon Connect call id (a ContactId), so ids of vendors cannot collide.
ID_PREFIX = "connect:"

DETAIL_TYPE = "amazon connect contact event"

EVENT_TYPES = frozenset(
    {"INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED"}
)

#: InitiationMethod values of a contact the customer started.
_INBOUND = frozenset({"INBOUND", "TRANSFER", "QUEUE_TRANSFER"})

#: disconnectReason values (newer events carry it) and who they say ended the call.
_ENDED_BY = {
    "CUSTOMER_DISCONNECT": "caller",
    "AGENT_DISCONNECT": "agent",
}


def _lower(value: Any, depth: int = 0) -> Any:
    """The object with every key in lower case, four levels down (envelope, detail, infos)."""
    if isinstance(value, dict) and depth < 4:
        return {str(k).lower(): _lower(v, depth + 1) for k, v in value.items()}
    return value


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def _last_part(arn: str) -> str:
    """The id at the end of an ARN (``.../queue/ID`` -> ``ID``): what names a queue or agent."""
    return arn.rsplit("/", 1)[-1][:MAX_TEXT]


def agent_id(arn: str) -> str:
    """The agent an ``agentArn`` names, as the board shows it: the agent's id.

    ``arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE-ID/agent/AGENT-ID`` gives
    ``AGENT-ID``, the id Amazon Connect's user API (``UserId``) and its console's
    ARN show for the agent, so it is what a centre writes in callboard.toml's
    ``[agents]`` table to show a name instead. Contact events carry no agent
    name; the whole ARN (about 130 characters, the instance's id first) is
    unreadable on a board. Not prefixed: agent ids of other vendors are names or
    extensions, which a UUID cannot collide with.
    """
    _, marker, rest = arn.partition("/agent/")
    if marker and rest:
        return rest.split("/", 1)[0][:MAX_TEXT]
    return _last_part(arn)


def contact_events(body: Any) -> list[Event]:
    """The events one contact event attests (`BadDelivery`, `NotShown` otherwise).

    `body` is the decoded JSON: the EventBridge envelope (``detail-type``,
    ``detail``) or the contact event alone (an input transformer's ``$.detail``).
    """
    if not isinstance(body, dict):
        raise BadDelivery(f"expected a JSON object, got {type(body).__name__}")
    envelope = _lower(body)
    detail = envelope
    if "detail" in envelope:
        kind = _text(envelope, "detail-type")
        if kind and kind.lower() != DETAIL_TYPE:
            raise NotShown(f"detail-type {kind[:60]!r} is not an Amazon Connect contact event")
        detail = envelope["detail"]
        if not isinstance(detail, dict):
            raise BadDelivery("field 'detail': not an object")
    where = "detail." if detail is not envelope else ""
    event_type = _text(detail, "eventtype").upper()
    if not event_type:
        raise BadDelivery(f"missing field '{where}eventType'")
    if event_type not in EVENT_TYPES:
        raise NotShown(f"eventType {event_type[:60]!r} is not a contact event we map")
    channel = _text(detail, "channel").upper()
    if channel and channel != "VOICE":
        raise NotShown(f"channel {channel[:20]!r}: the board shows voice calls")
    contact = _text(detail, "contactid")
    if not contact:
        raise BadDelivery(f"missing field '{where}contactId'")
    call_id = ID_PREFIX + contact[:120]

    def at(obj: dict[str, Any], name: str, label: str) -> Any:
        return vendor_time(obj.get(name), f"{where}{label}")

    method = _text(detail, "initiationmethod").upper()
    started: dict[str, Any] = {
        "type": "call.started",
        "call_id": call_id,
        "ts": at(detail, "initiationtimestamp", "initiationTimestamp"),
        "direction": "inbound" if method in _INBOUND or not method else "outbound",
    }
    for ours, theirs in (("from", "customerendpoint"), ("to", "systemendpoint")):
        endpoint = detail.get(theirs)
        if isinstance(endpoint, dict) and _text(endpoint, "address"):
            started[ours] = _text(endpoint, "address")[:MAX_TEXT]
    out = [started]
    queue = detail.get("queueinfo")
    if isinstance(queue, dict) and queue.get("enqueuetimestamp"):
        name = _text(queue, "queuename") or _last_part(_text(queue, "queuearn"))
        if not name:
            raise BadDelivery(f"missing field '{where}queueInfo.queueArn'")
        out.append(
            {
                "type": "queue.entered",
                "call_id": call_id,
                "ts": at(queue, "enqueuetimestamp", "queueInfo.enqueueTimestamp"),
                "queue": name,
            }
        )
    agent = detail.get("agentinfo")
    if isinstance(agent, dict) and agent.get("connectedtoagenttimestamp"):
        name = agent_id(_text(agent, "agentarn"))
        if not name:
            raise BadDelivery(f"missing field '{where}agentInfo.agentArn'")
        out.append(
            {
                "type": "agent.answered",
                "call_id": call_id,
                "ts": at(agent, "connectedtoagenttimestamp", "agentInfo.connectedToAgentTimestamp"),
                "agent": name,
            }
        )
    if event_type == "DISCONNECTED":
        reason = _text(detail, "disconnectreason").upper()
        ended: dict[str, Any] = {
            "type": "call.ended",
            "call_id": call_id,
            "ts": at(detail, "disconnecttimestamp", "disconnectTimestamp"),
            # Without a reason (the documentation's sample has none) the customer is
            # the likeliest to have ended it.
            "by": _ENDED_BY.get(reason, "system" if reason else "caller"),
        }
        if reason:
            ended["cause"] = reason[:MAX_TEXT]
        out.append(ended)
    try:
        return [event_from_dict(d) for d in out]
    except EventError as exc:
        raise BadDelivery(str(exc)) from None
