"""What a user is told when answering fails (failures.describe_failure): one sentence to act on
for each kind of failure, and the details for staff, cut to a readable length."""

import pytest
from django.db import OperationalError

from conversations.failures import DETAIL_CHARS, describe_failure


class ApiError(Exception):
    def __init__(self, status_code: int):
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), "The language model did not answer within 30 seconds. Please try again."),
        (OperationalError("server closed the connection"), "The database could not be reached while answering."),
        (ApiError(429), "The language model service is busy (rate limited)."),
        (ApiError(401), "The language model service refused this site's credentials;"),
        (ApiError(503), "The language model service failed (HTTP 503)."),
        (ConnectionRefusedError(), "The language model service could not be reached."),
        (KeyError("choices"), "An unexpected error stopped it."),
    ],
)
def test_each_kind_of_failure_is_told_in_a_sentence_to_act_on(exc, reason):
    failure = describe_failure(exc, timeout=30)

    assert failure.reason.startswith(reason) and failure.reason.endswith(".")
    assert failure.detail.startswith(type(exc).__name__)


def test_the_details_for_staff_are_cut_to_a_readable_length():
    failure = describe_failure(ValueError("x" * 5000))

    assert len(failure.detail) == DETAIL_CHARS and failure.detail.endswith("…")
