"""Local development and the demo: DEBUG on, SQLite unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DEBUG", "true")
# The demo's contract CA (created by seed_demo) needs a passphrase; this fixed one is for development only —
# production settings do not import this file and take CONTRACT_CA_KEY_PASSPHRASE only from the environment.
os.environ.setdefault("CONTRACT_CA_KEY_PASSPHRASE", "development-only-contract-ca-passphrase")

from config.settings.base import *  # noqa: E402, F403
