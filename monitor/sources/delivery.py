"""What a vendor's webhook delivery comes to: events, a refusal naming the field, or nothing shown.

The vendor mappings (`monitor.sources.exotel`, `twilio`, `amazon_connect`) are pure
functions from a parsed payload to schema v1 events, testable without HTTP; the
receiver (`monitor.hooks.server`) turns their two exceptions into HTTP answers:

* `BadDelivery`: the payload cannot become events (a field missing or not what
  the vendor documents); 400 with the message, which names the field.
* `NotShown`: a well-formed delivery of something the board does not show (an
  event type we do not map, a chat contact, a child leg); 202, counted.

An empty list of events is a delivery already applied (a vendor's retry) or one
that adds nothing yet: 200.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


class BadDelivery(ValueError):
    """A delivery that cannot become events; the message names the field."""


class NotShown(Exception):
    """A well-formed delivery of something the board does not show; the message says what."""


def vendor_time(value: Any, field: str) -> datetime:
    """A vendor's time: epoch seconds (number or digits), ISO 8601, or RFC 2822.

    Times without an offset are taken as UTC (Twilio and Amazon document UTC;
    Exotel's own local times go through the Exotel adapter instead).
    """
    if value is None or value == "":
        raise BadDelivery(f"missing field {field!r}")
    if isinstance(value, bool):
        raise BadDelivery(f"field {field!r}: {value!r} is not a time")
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise BadDelivery(f"field {field!r}: {text[:40]!r} is not a time") from None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        try:
            at = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadDelivery(
                f"field {field!r}: {text[:40]!r} is not a time "
                "(epoch seconds, ISO 8601 or RFC 2822)"
            ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
