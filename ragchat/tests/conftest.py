import contextlib

import pytest
from django.db import connection


@pytest.fixture
def unreachable_database():
    """A context manager that makes the database unreachable inside it, then restores it.

    The server is shared with other tests, so it is not stopped: connecting to a database that
    does not exist fails at connect time with the same OperationalError from the real driver.
    """

    @contextlib.contextmanager
    def outage():
        real_name = connection.settings_dict["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = "ragchat_no_such_database"
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = real_name

    return outage
