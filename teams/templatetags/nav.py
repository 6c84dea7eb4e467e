"""The navigation link: highlighted, with aria-current, when the current page lives under it."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("_nav_link.html", takes_context=True)
def nav_link(context, url_name, label, badge=None):
    href = reverse(url_name)
    return {"href": href, "label": label, "badge": badge, "active": context["request"].path.startswith(href)}
