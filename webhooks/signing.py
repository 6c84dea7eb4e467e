"""HMAC-SHA256 signatures of deliveries, and their verification (what a receiver does; see webhooks/__init__.py)."""

import hashlib
import hmac
import time

HEADER = "Pacer-Signature"


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Pacer-Signature` header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(*, secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """True when the header signs `body` with `secret` and its timestamp is within `tolerance` seconds of now."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
