"""Configuration from the environment, and production settings that pass Django's checks."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def run_manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, "DJANGO_SETTINGS_MODULE": "statuspage.settings", **env},
    )


def test_secret_key_is_required_when_debug_is_off():
    # Set empty, not unset: a checkout where `make run` wrote its .env (a key, DEBUG on) behaves the same.
    result = run_manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_bad_boolean_is_rejected_at_start():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "production-grade-secret-key-with-entropy-91fd3",
        ALLOWED_HOSTS="status.example.com",
        EMAIL_URL="smtp://mail.example.com:587?tls=1",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_email_url_is_translated_into_a_mailer():
    sys.path.insert(0, str(ROOT))
    from statuspage.settings import mailer_from_url

    mailer = mailer_from_url("smtp://user%40x:p%3Ass@mail.example.com:587?tls=1")
    assert mailer["OPTIONS"] == {
        "host": "mail.example.com",
        "port": 587,
        "username": "user@x",
        "password": "p:ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }
    assert mailer_from_url("")["BACKEND"].endswith("console.EmailBackend")
