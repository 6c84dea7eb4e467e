"""Personal API tokens (knox, stored hashed) and the Idempotency-Key records of the API's writes."""

from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A personal API token: knox keeps only a hash (the token is shown once, at creation); the user names it."""

    name: models.CharField = models.CharField(max_length=80)
    last_used_at: models.DateTimeField = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.token_key}…)"


class IdempotencyKey(models.Model):
    """A write sent with an `Idempotency-Key` header: the first response is kept and replayed for every repeat.

    Scoped per user, so two clients cannot collide. `request_hash` is a SHA-256 of the method, path and
    canonical JSON body: the same key with another request is refused (409), never replayed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()  # the rendered JSON, replayed byte for byte
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class PendingImport(models.Model):
    """An uploaded CSV between its validation report and the user's confirmation (deleted once imported)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return self.filename
