"""Passwords: at least 12 characters (OWASP ASVS level 2), plus Django's other standard checks."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


def test_an_eleven_character_password_is_too_short():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Zq7!mK2#pL9")


def test_a_twelve_character_password_is_long_enough():
    validate_password("Zq7!mK2#pL9w")


def test_common_and_numeric_passwords_are_still_refused():
    for password in ["password1234", "839201746503"]:
        with pytest.raises(ValidationError):
            validate_password(password)
