"""Outgoing webhooks: admins register endpoints; events are delivered by Celery (queue "webhooks"), signed.

On top of the layers: the API and CSV layers call `entries_recorded_emit`, and the goals tasks call
`goal_events_emit` after each recompute and closing through settings.PACER_AFTER_RECOMPUTE (goals never imports
this app), and rewards calls `awards_granted_emit` through settings.PACER_AFTER_AWARDS_GRANTED. rewards and feedback
sit below this app: their events reach `webhook_emit` that way (a settings hook, or their api modules), never by
importing it.

"adjustment.decided": feedback sends `feedback.signals.adjustment_decided` after a decision commits; WebhooksConfig
connects it to webhooks/adjustments.py, which builds the payload (and the one-line Slack text).

Verifying a delivery (receivers): the `Pacer-Signature` header is `t=<unix seconds>,v1=<hex>`, where
hex = HMAC-SHA256(endpoint secret, f"{t}.{raw body}"). Recompute it over the raw body, compare in constant time,
and reject a timestamp more than 5 minutes from your clock (a replayed request). `webhooks.signing.verify` does it.
"""
