"""Settings for the test suite: production settings with test conveniences.

DEBUG stays off so tests see what production does; only what a test client
over plain HTTP needs is relaxed.
"""

import os

# A developer's .env (DEBUG on) must not change what the tests see.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from statuspage.settings import *  # noqa: E402,F403

# Fast hashing for tests; PBKDF2 stays available for users a test creates for
# a real server process, which runs with the production hashers.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# No manifest: tests do not run collectstatic.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Connections opened by worker threads (database_sync_to_async) close after
# each use, so the test database can be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
