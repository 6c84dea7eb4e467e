"""Outgoing webhooks: admins register endpoints; events are delivered by Celery (queue "webhooks"), signed.

On top of the layers: the API and CSV layers call `entries_recorded_emit`, and the goals tasks call
`goal_events_emit` after each recompute and closing through settings.PACER_AFTER_RECOMPUTE (goals never imports
this app), rewards calls `awards_granted_emit` through settings.PACER_AFTER_AWARDS_GRANTED and feedback calls
`adjustments.adjustment_decided_emit` through settings.PACER_AFTER_ADJUSTMENT_DECIDED (teams.hooks.hooks_run, inside
the change's transaction). rewards and feedback sit below this app: their events reach `webhook_emit` that way,
never by importing it.

Verifying a delivery (receivers): the `Pacer-Signature` header is `t=<unix seconds>,v1=<hex>`, where
hex = HMAC-SHA256(endpoint secret, f"{t}.{raw body}"). Recompute it over the raw body, compare in constant time,
and reject a timestamp more than 5 minutes from your clock (a replayed request). `webhooks.signing.verify` does it.
"""
