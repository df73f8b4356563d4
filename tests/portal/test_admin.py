"""The audit log of admin actions: listed for operators, never editable."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client

pytestmark = pytest.mark.django_db


def test_admin_actions_are_listed_read_only() -> None:
    admin = get_user_model().objects.create_superuser("operator", password="pw")
    entry = LogEntry.objects.log_actions(
        admin.pk,
        [admin],
        ADDITION,
        change_message="created the operator",
        single_object=True,
    )
    assert ContentType.objects.get_for_model(admin) == entry.content_type
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/admin/logentry/")
    assert listing.status_code == 200
    assert "operator" in listing.content.decode()
    page = client.get(f"/admin/admin/logentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # view only
    assert (
        client.post(f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()
