"""The invitation email: a one-time link to set a password, made by Django's password-reset token machinery.

The token is derived from the person's password hash and last login, so it stops working once they set a
password (one-time) and after settings.PASSWORD_RESET_TIMEOUT. Nothing secret is stored.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User


def invitation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    return settings.SITE_URL.rstrip("/") + path


def invitation_email_send(*, user_id: int) -> bool:
    """Send the link to a person who has not set a password yet; False (nothing sent) once they have, or when
    they were deactivated meanwhile. A second send sends a second, equally valid link."""
    user = User.objects.filter(id=user_id, is_active=True, last_login__isnull=True).first()
    if user is None or user.has_usable_password() or not user.email:
        return False
    context = {
        "user": user,
        "link": invitation_link(user),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    subject = " ".join(render_to_string("emails/invitation_subject.txt", context).split())
    message = EmailMultiAlternatives(subject=subject, body=render_to_string("emails/invitation_body.txt", context),
                                     to=[user.email])  # fmt: skip
    message.attach_alternative(render_to_string("emails/invitation_body.html", context), "text/html")
    message.send()
    return True
