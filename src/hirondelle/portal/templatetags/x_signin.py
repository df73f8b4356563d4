"""The "Prove my X account" section, for any page that has a signed-in person."""

from django import template

from hirondelle.portal.services.x_signin import proof_status

register = template.Library()


@register.inclusion_tag("portal/_x_signin.html", takes_context=True)
def x_proof_section(context) -> dict:
    """Nothing at all where the operator configured no X app."""
    user = context["user"] if "user" in context else context["request"].user
    return {"status": proof_status(user), "csrf_token": context.get("csrf_token")}
