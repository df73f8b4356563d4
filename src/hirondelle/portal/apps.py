from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "hirondelle.portal"
    label = "portal"
    verbose_name = _("Portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signals only: ready() runs for every command and must not query.
        from hirondelle.identity.signals import directory_changed
        from hirondelle.portal.tasks import on_directory_changed

        directory_changed.connect(on_directory_changed, dispatch_uid="portal-arrival-notices")
