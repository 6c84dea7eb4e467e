"""Email of invitations. Thin: the link and the message are built by teams.invitations."""

from celery import shared_task

from .invitations import invitation_email_send


# Retries back off 30 s, 60 s … capped at 10 minutes: well under the Redis visibility timeout (3600 s).
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def send_invitation_email(user_id: int) -> bool:
    return invitation_email_send(user_id=user_id)
