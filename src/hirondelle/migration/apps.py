from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MigrationConfig(AppConfig):
    name = "hirondelle.migration"
    label = "migration"
    verbose_name = _("Migrations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signals only: ready() runs for every command and must not query.
        from hirondelle.identity.signals import directory_changed, impersonation_upheld
        from hirondelle.migration.services.impersonation import cancel_towards
        from hirondelle.migration.tasks import on_directory_changed

        directory_changed.connect(on_directory_changed, dispatch_uid="migration-arrivals")
        impersonation_upheld.connect(cancel_towards, dispatch_uid="migration-impersonation")
