"""Settings: the production configuration passes Django's deployment checks with the README's environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k3y-for-the-deploy-check-5b1f0c7e9a2d4e6f8a0b2c4d6e8f0a1b3c5d7e9f",
    "ALLOWED_HOSTS": "procurement.example.gov",
}


def run_manage(*args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG")}
    env.pop("DATABASE_URL", None)
    env["DATA_DIR"] = str(tmp_path)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_environment(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert missing in result.stderr


def test_settings_read_the_environment_in_one_place():
    offenders = [
        path.relative_to(ROOT)
        for path in (ROOT / "config" / "settings").glob("*.py")
        if "os.environ[" in path.read_text() or "os.getenv(" in path.read_text()
    ]
    assert offenders == []


def test_the_database_comes_from_database_url(monkeypatch):
    from config.settings import base

    monkeypatch.setattr(base.env, "DATABASE_URL", "postgres://ppp:secret@db.example.gov:5432/ppp")
    monkeypatch.setattr(base.env, "DATABASE_POOL", True)
    config = base._database_settings()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["HOST"] == "db.example.gov"
    assert config["OPTIONS"]["pool"]["max_size"] >= 1

    monkeypatch.setattr(base.env, "DATABASE_URL", None)
    config = base._database_settings()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_media_is_outside_the_static_web_root():
    from django.conf import settings

    assert Path(settings.MEDIA_ROOT).resolve() != Path(settings.STATIC_ROOT).resolve()
    assert not str(Path(settings.MEDIA_ROOT).resolve()).startswith(str(Path(settings.STATIC_ROOT).resolve()))
    assert settings.MEDIA_URL is None
