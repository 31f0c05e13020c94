"""`manage.py createsuperuser` with a phone number, driven the way Django's own tests drive it:
a TTY-like stdin, and `input`/`getpass` answering the prompts."""

import builtins
from io import StringIO

import pytest
from django.contrib.auth.management.commands import createsuperuser
from django.core.management import CommandError, call_command

from refuje.accounts.models import User
from refuje.common.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Operator-passphrase"


class MockTTY:
    """stdin that claims to be a terminal, as createsuperuser requires for prompting."""

    def isatty(self):
        return True


class Prompts:
    def __init__(self, monkeypatch, answers, passwords):
        self.answers = list(answers)
        self.passwords = list(passwords)
        self.asked: list[str] = []
        monkeypatch.setattr(builtins, "input", self.input)
        monkeypatch.setattr(createsuperuser, "getpass", self)

    def input(self, prompt=""):
        self.asked.append(prompt)
        return self.answers.pop(0)

    def getpass(self, prompt="Password: "):
        self.asked.append(prompt)
        return self.passwords.pop(0)


def run_interactive(**options):
    out, err = StringIO(), StringIO()
    call_command("createsuperuser", interactive=True, stdin=MockTTY(), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_interactive_prompts_for_a_phone_and_normalises_the_local_form(monkeypatch):
    prompts = Prompts(monkeypatch, ["050 123 4567"], [PASSWORD, PASSWORD])

    out, _ = run_interactive()

    assert prompts.asked[0] == "Phone number: "
    assert "Superuser created successfully." in out
    user = User.objects.get(phone_number="+966501234567")
    assert user.is_superuser
    assert user.is_staff
    assert user.user_type == "STAFF"
    assert user.check_password(PASSWORD)


def test_interactive_refuses_garbage_with_the_phone_message_and_asks_again(monkeypatch):
    Prompts(monkeypatch, ["not-a-phone", "12", "+44 7911 123456"], [PASSWORD, PASSWORD])

    _, err = run_interactive()

    assert err.count("Error: Enter a valid phone number") == 2
    assert User.objects.filter(is_superuser=True).get().phone_number == "+447911123456"


def test_interactive_refuses_a_phone_that_is_taken_in_another_form(monkeypatch):
    UserFactory(phone_number="+966501234567")
    Prompts(monkeypatch, ["00966501234567", "0551112222"], [PASSWORD, PASSWORD])

    _, err = run_interactive()

    assert "Error: That phone number is already taken." in err
    assert User.objects.get(is_superuser=True).phone_number == "+966551112222"


def test_noinput_takes_the_phone_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "0501234567")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", interactive=False, stdout=StringIO())

    user = User.objects.get(phone_number="+966501234567")
    assert user.is_superuser
    assert user.check_password(PASSWORD)


def test_noinput_without_a_password_creates_an_unusable_one(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "+966 50 123 4567")
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    call_command("createsuperuser", interactive=False, stdout=StringIO())

    user = User.objects.get(phone_number="+966501234567")
    assert user.is_superuser
    assert not user.has_usable_password()


def test_noinput_accepts_the_phone_as_an_option(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PHONE_NUMBER", raising=False)

    call_command("createsuperuser", interactive=False, phone_number="٠٥٠١٢٣٤٥٦٧", stdout=StringIO())

    assert User.objects.get(phone_number="+966501234567").is_superuser


def test_noinput_refuses_garbage_with_the_phone_message(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "call me maybe")

    with pytest.raises(CommandError, match="Enter a valid phone number"):
        call_command("createsuperuser", interactive=False, stdout=StringIO())

    assert not User.objects.exists()


def test_noinput_refuses_a_taken_phone(monkeypatch):
    UserFactory(phone_number="+966501234567")
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "0501234567")

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", interactive=False, stdout=StringIO())


def test_noinput_without_a_phone_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PHONE_NUMBER", raising=False)

    with pytest.raises(CommandError, match="--phone_number"):
        call_command("createsuperuser", interactive=False, stdout=StringIO())
