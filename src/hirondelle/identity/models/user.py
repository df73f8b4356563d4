from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using Hirondelle: on a laptop, the one local user.

    Custom from day one, so that sign-in through Mastodon or Bluesky (no
    password, no e-mail) never needs a model swap later.
    """

    class Meta(AbstractUser.Meta):
        verbose_name = _("person")
        verbose_name_plural = _("people")
        swappable = "AUTH_USER_MODEL"
