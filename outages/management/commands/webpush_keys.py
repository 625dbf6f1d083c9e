"""Create the VAPID key pair for browser notifications (Web Push).

    python manage.py webpush_keys            # writes data/vapid.json unless it exists
    python manage.py webpush_keys --force    # a new pair (every browser must subscribe again)
    python manage.py webpush_keys --print    # print VAPID_PRIVATE_KEY=/VAPID_PUBLIC_KEY= lines, write nothing

The file (VAPID_KEY_FILE, git-ignored under data/) is what the settings read
when VAPID_PRIVATE_KEY is not in the environment; production sets
VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY and VAPID_SUBJECT there instead.
"""

import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand

from outages.notify.webpush import generate_keys


class Command(BaseCommand):
    help = "Create the VAPID key pair for browser notifications (data/vapid.json)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Replace an existing key pair.")
        parser.add_argument("--print", action="store_true", dest="print_only", help="Print a new pair as env lines.")

    def handle(self, *args, force=False, print_only=False, **options):
        if print_only:
            keys = generate_keys()
            self.stdout.write(f"VAPID_PRIVATE_KEY={keys['private_key']}\nVAPID_PUBLIC_KEY={keys['public_key']}")
            return
        path = settings.VAPID_KEY_FILE
        if path.exists() and not force:
            self.stdout.write(f"{path} exists; keeping it (--force replaces it).")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = generate_keys()
        # Only the owner may read the private key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(keys, file, indent=2)
            file.write("\n")
        self.stdout.write(f"Wrote a VAPID key pair to {path}")
