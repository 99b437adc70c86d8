"""RSS, Atom and JSON Feed subscriptions: a room follows a feed; new entries are posted."""
