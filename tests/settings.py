"""Django settings for the test suite.

The data directory points at a fresh temporary folder before Hirondelle's own
settings are read, so no test ever touches a person's real data directory.
"""

import os
import tempfile

os.environ["HIRONDELLE_DATA_DIR"] = tempfile.mkdtemp(prefix="hirondelle-test-")
os.environ.pop("HIRONDELLE_DATABASE_URL", None)
# joinmastodon.org's server list is never fetched from the internet by tests:
# tests/portal/test_server_list.py points it at an imitation on 127.0.0.1.
os.environ["HIRONDELLE_SERVERS_LIST_URL"] = ""

from hirondelle.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
