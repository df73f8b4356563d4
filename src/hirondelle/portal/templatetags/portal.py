"""Small template helpers for the portal's pages."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """`{{ mapping|get:key }}`: a dict lookup with a variable key."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key
