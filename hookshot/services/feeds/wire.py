"""The feeds service's wire names (hookshot's), in one place."""

from typing import Final

# The connection's state event type; state_key = the feed URL.
FEED: Final = "uk.half-shot.matrix-hookshot.feed"
FEED_TYPES: Final = (FEED,)
# The entry, as a content key of each notice (hookshot's).
ITEM_KEY: Final = "uk.half-shot.matrix-hookshot.feeds.item"
# The config section and permission service.
SERVICE: Final = "feeds"
