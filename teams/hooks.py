"""Cross-layer hooks: how a lower app hands its work to the apps above it without importing them.

A setting lists dotted paths (`PACER_AFTER_RECOMPUTE`, `PACER_AFTER_AWARDS_GRANTED`,
`PACER_AFTER_ADJUSTMENT_DECIDED` in config/settings.py); the lower app calls `hooks_run(setting, **ids)` and
each path is called with those keyword arguments. Inside a transaction each hook runs in its own savepoint, so
what a hook writes (a webhook delivery row) commits with the change or not at all, and a failing hook is
logged and rolled back alone: it never undoes the change that called it, nor stops the other hooks.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def hooks_run(setting: str, **ids) -> None:
    for path in getattr(settings, setting, ()):
        try:
            with transaction.atomic():
                import_string(path)(**ids)
        except Exception:
            logger.exception("The %s hook %s failed for %r.", setting, path, {k: _size(v) for k, v in ids.items()})


def _size(value):
    return f"{len(value)} ids" if isinstance(value, list | tuple | set) else value
