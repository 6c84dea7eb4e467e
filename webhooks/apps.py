from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self):
        # Events of the apps below, which cannot import this one: they send a signal, this app listens.
        from feedback.signals import adjustment_decided
        from webhooks.adjustments import adjustment_decided_receiver

        adjustment_decided.connect(adjustment_decided_receiver, dispatch_uid="webhooks.adjustment_decided")
