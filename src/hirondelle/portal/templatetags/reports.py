"""The "accounts that claim to be you" notice, for pages with a signed-in person."""

from django import template

from hirondelle.portal.services.reports import claims_on_me

register = template.Library()


@register.inclusion_tag("portal/_claims_on_me.html", takes_context=True)
def claims_on_me_section(context) -> dict:
    """Nothing unless X confirmed the person's X account and someone else claims it."""
    user = context["user"] if "user" in context else context["request"].user
    return {"claims": claims_on_me(user) if user.is_authenticated else []}
