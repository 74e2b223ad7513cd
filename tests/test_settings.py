"""Quick mode is one switch with three ways to turn it on."""

import pytest

from course_lib import settings


@pytest.mark.parametrize("name", settings.QUICK_ENV_VARS)
def test_each_variable_turns_quick_mode_on(monkeypatch, name):
    for other in settings.QUICK_ENV_VARS:
        monkeypatch.delenv(other, raising=False)
    assert not settings.quick_mode()
    monkeypatch.setenv(name, "1")
    assert settings.quick_mode()


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_false_values_leave_quick_mode_off(monkeypatch, value):
    for other in settings.QUICK_ENV_VARS:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv("COURSE_QUICK", value)
    assert not settings.quick_mode()


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CFCM_DATA_ROOT", str(tmp_path))
    assert settings.data_root() == tmp_path.resolve()


def test_data_root_defaults_to_the_checkout(monkeypatch):
    monkeypatch.delenv("CFCM_DATA_ROOT", raising=False)
    root = settings.repository_root()
    assert root is not None, "tests run from a checkout, which must be recognised"
    assert settings.data_root() == root / "data"


@pytest.mark.parametrize("name", settings.STRICT_ENV_VARS)
def test_each_variable_makes_exercise_checks_strict(monkeypatch, name):
    for other in settings.STRICT_ENV_VARS:
        monkeypatch.delenv(other, raising=False)
    assert not settings.strict_checks(), "a student's own session shows failed checks instead of raising"
    monkeypatch.setenv(name, "autograde")
    assert settings.strict_checks()
