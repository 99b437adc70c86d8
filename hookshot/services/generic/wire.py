"""Generic hooks' own wire names (the shared ones, such as their state event types, are in
hookshot/wire.py, which the core reads too)."""

from typing import Final

SERVICE: Final = "generic"  # the config section, job kind, widget section and help heading
