import pytest

from api.tokens import token_create


@pytest.fixture
def alice_token(alice) -> str:
    """A raw token of Alice's, with no expiry."""
    return token_create(user=alice, name="scripts")[1]


@pytest.fixture
def bob_token(bob) -> str:
    return token_create(user=bob, name="scripts")[1]
