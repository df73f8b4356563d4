from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "hirondelle.identity"
    label = "identity"
    verbose_name = _("Directory: who moved where")
    default_auto_field = "django.db.models.BigAutoField"
