"""Who may deliver a webhook: the hooks key, Twilio's signature, Amazon's shared secret.

Exotel cannot sign its requests, so every route needs the hooks key, given the two
ways a vendor's console lets one configure it: in the URL (``?key=...``) or as the
password of HTTP basic auth (Exotel and EventBridge connections both offer it).
Twilio's ``X-Twilio-Signature`` is checked by the `twilio` library's own
`RequestValidator` against the URL Twilio was given (a proxy in front of us
changes scheme, host and port, hence ``--hooks-public-url``). Amazon's header is
compared here. Every secret is compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from twilio.request_validator import RequestValidator

KEY_PARAM = "key"
AMAZON_HEADER = "X-Callboard-Secret"
TWILIO_HEADER = "X-Twilio-Signature"


def same_secret(given: str, expected: str) -> bool:
    """True when `given` is `expected`, in time that does not depend on where they differ."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def _basic_password(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def key_problem(query: Mapping[str, str], authorization: str | None, key: str | None) -> str | None:
    """Why a request does not present the hooks key, or None (also when no key is set)."""
    if key is None:
        return None
    given = query.get(KEY_PARAM)
    if given is None and authorization:
        given = _basic_password(authorization)
    if given is None:
        return "missing hooks key: add ?key=KEY to the URL or use HTTP basic auth"
    return None if same_secret(given, key) else "wrong hooks key"


def twilio_problem(token: str | None, url: str, params: Any, signature: str | None) -> str | None:
    """Why a Twilio delivery's signature does not hold, or None."""
    if token is None:
        return "no Twilio auth token configured ($CALLBOARD_TWILIO_AUTH_TOKEN)"
    if not signature:
        return f"missing {TWILIO_HEADER} header"
    if not RequestValidator(token).validate(url, params, signature):
        # Not the URL itself: it holds the hooks key.
        return (
            f"{TWILIO_HEADER} does not match this request at its public URL "
            "(is --hooks-public-url the URL Twilio is configured with?)"
        )
    return None


def amazon_problem(secret: str | None, given: str | None) -> str | None:
    """Why an EventBridge delivery does not carry the shared secret, or None."""
    if secret is None:
        return "no Amazon Connect secret configured ($CALLBOARD_AMAZON_SECRET)"
    if given is None:
        return f"missing {AMAZON_HEADER} header"
    return None if same_secret(given, secret) else f"wrong {AMAZON_HEADER}"
