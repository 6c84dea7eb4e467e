"""The navigation link: highlighted, with aria-current, when the current page lives under it."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("_nav_link.html", takes_context=True)
def nav_link(context, url_name, label, badge=None, badge_id=""):
    """`badge_id`: the badge is always there (hidden at 0) under that id, so a page can swap a new count into it."""
    href = reverse(url_name)
    active = context["request"].path.startswith(href)
    return {"href": href, "label": label, "badge": badge, "badge_id": badge_id, "active": active}
