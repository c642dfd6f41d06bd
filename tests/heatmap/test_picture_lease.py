"""The picture lease: a process lets go of a page's lease only while it is still its own. When
a capture outlasts the lease and another process takes the page over, the first one's release
leaves the other's lease alone."""

from __future__ import annotations

import redis

from collector.sites import Site
from heatmap import keys
from heatmap.capture import CaptureError
from heatmap.picture_taker import PictureTaker
from heatmap.pictures import DuePicture, PictureRules
from tests.heatmap.cameras import StandInCamera


class FailingCamera(StandInCamera):
    """A capture that fails; with a lease, so slowly that the lease expired and another
    process took the page over meanwhile."""

    def __init__(self, client: redis.Redis | None = None, lease: str = "") -> None:
        super().__init__()
        self.client, self.lease = client, lease

    def picture(self, url: str, width: int) -> bytes:
        if self.client is not None:
            self.client.set(self.lease, "another-process", ex=60)
        raise CaptureError("the page took too long")


def test_a_lease_taken_over_meanwhile_is_left_to_its_new_owner(
    redis_client: redis.Redis, site: Site
) -> None:
    lease = keys.picture_lease(site.name, "/cart")
    camera = FailingCamera(redis_client, lease)
    taker = PictureTaker(redis_client, PictureRules(), camera=camera)
    due = DuePicture(site, "/cart", "https://shop.example/cart")
    assert taker.take(due) is False
    assert redis_client.get(lease) == b"another-process"


def test_its_own_lease_is_let_go_after_a_capture(redis_client: redis.Redis, site: Site) -> None:
    taker = PictureTaker(redis_client, PictureRules(), camera=FailingCamera())
    assert taker.take(DuePicture(site, "/cart", "https://shop.example/cart")) is False
    assert redis_client.exists(keys.picture_lease(site.name, "/cart")) == 0
