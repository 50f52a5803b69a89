"""Webhook targets follow fetch.allow_networks, like every crawled URL."""

from __future__ import annotations

import pytest

from regwatch.alerts.push import check_webhook
from regwatch.errors import DeliveryError


def test_a_webhook_inside_a_listed_network_is_accepted() -> None:
    check_webhook("json://10.0.0.5/hooks/rw", ("10.0.0.0/8",))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("json://10.0.0.5/hooks/rw", "not public"),  # private, and 10/8 is not listed
        ("json://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("json://[fd00:ec2::254]/latest", "cloud metadata"),
    ],
)
def test_a_webhook_outside_the_listed_networks_is_refused(url: str, reason: str) -> None:
    with pytest.raises(DeliveryError, match=reason):
        check_webhook(url, ("127.0.0.0/8", "0.0.0.0/0") if "169" in url else ("127.0.0.0/8",))
