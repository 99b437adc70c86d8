"""Every name that crosses a wire: state event types, account-data keys, content keys,
queue topics and storage keys. One place, so a rename is one edit."""

from typing import Final

# Connection state event types (hookshot's, plus the legacy matrix-github ones it still reads).
GENERIC_HOOK: Final = "uk.half-shot.matrix-hookshot.generic.hook"
GENERIC_HOOK_LEGACY: Final = "uk.half-shot.matrix-github.generic.hook"
GENERIC_HOOK_TYPES: Final = (GENERIC_HOOK, GENERIC_HOOK_LEGACY)

GITHUB_REPO: Final = "uk.half-shot.matrix-hookshot.github.repository"
GITHUB_REPO_LEGACY: Final = "uk.half-shot.matrix-github.repository"
GITHUB_REPO_TYPES: Final = (GITHUB_REPO, GITHUB_REPO_LEGACY)

GITLAB_REPO: Final = "uk.half-shot.matrix-hookshot.gitlab.repository"
GITLAB_REPO_LEGACY: Final = "uk.half-shot.matrix-github.gitlab.repository"
GITLAB_REPO_TYPES: Final = (GITLAB_REPO, GITLAB_REPO_LEGACY)

# Extra content keys on GitHub notices (hookshot's).
EXTERNAL_URL: Final = "external_url"
GITHUB_REPO_KEY: Final = "uk.half-shot.matrix-hookshot.github.repo"
GITHUB_ISSUE_KEY: Final = "uk.half-shot.matrix-hookshot.github.issue"
GITHUB_PULL_REQUEST_KEY: Final = "uk.half-shot.matrix-hookshot.github.pull_request"
GITHUB_PUSH_KEY: Final = "uk.half-shot.matrix-hookshot.github.push"

# MSC4095 link previews: an empty list asks clients not to preview the message's links.
URL_PREVIEWS_KEY: Final = "com.beeper.linkpreviews"

OUTBOUND_HOOK: Final = "uk.half-shot.matrix-hookshot.outbound-hook"
OUTBOUND_HOOK_TYPES: Final = (OUTBOUND_HOOK,)
OUTBOUND_TOKEN_NAMESPACE: Final = "outboundHookToken"  # generic:<ns>:<md5> account data
SERVICE_OUTBOUND: Final = "genericOutbound"  # hookshot's name in the widget and config

# Room account data mapping hookId -> state_key; hookshot keys it by the state event type.
GENERIC_HOOK_ACCOUNT_DATA: Final = GENERIC_HOOK

# Ours: room account data {hookId: secret} for generic hooks that require one.
GENERIC_HOOK_SECRETS: Final = "org.hookshot-python.generic.hook.secrets"

# Ours: the transaction id of every message we send, so a send retried after the homeserver
# restarted (and forgot its transaction ids) can find the event it may already have made.
TXN_KEY: Final = "uk.half-shot.hookshot.txn"

# Extra content key carrying the webhook body on generic hook messages.
WEBHOOK_DATA_KEY: Final = "uk.half-shot.hookshot.webhook_data"

# Room account data marking a user's admin (DM) room with the bot: {"admin_user": user_id}.
ADMIN_ROOM: Final = "uk.half-shot.matrix-hookshot.github.room"
ADMIN_ROOM_LEGACY: Final = "uk.half-shot.matrix-github.room"
ADMIN_ROOM_TYPES: Final = (ADMIN_ROOM, ADMIN_ROOM_LEGACY)

# Queue topics.
TOPIC_WEBHOOK: Final = "webhook"
TOPIC_SEND: Final = "send"
TOPIC_MATRIX: Final = "matrix"  # events pushed by the homeserver, keyed by event_id
TOPIC_OUTBOUND: Final = "outbound"  # room events to forward to outbound hooks

# A webhook job's `kind`: the service that renders it (kept in queued jobs across upgrades).
KIND_GENERIC: Final = "generic"
KIND_GITHUB: Final = "github"
KIND_GITLAB: Final = "gitlab"

# Redis keys and channels shared by the scale-out roles, under the queue's key prefix.
REDIS_HOOKS: Final = "hooks"  # hash hookId -> directory entry (JSON), written by `bridge`
REDIS_HOOKS_READY: Final = "hooks:ready"  # set once the bridge published a full directory
REDIS_OUTCOMES: Final = "outcomes"  # pub/sub: what became of a webhook (waitForComplete)
REDIS_SENT: Final = "sent"  # pub/sub: where a threaded notice landed (discussion roots)
REDIS_DELIVERIES: Final = "deliveries"  # delivery log: `:h:{hookId}` lists, `:e:{id}` hashes
REDIS_BRIDGE_LOCK: Final = "bridge:lock"  # the one active `bridge` process's name
REDIS_SESSIONS: Final = "sessions"  # widget sessions: `:t:{token}`, `:u:{userId}` sets

# Permission services (config `permissions[].services[].service`).
SERVICE_WEBHOOKS: Final = "webhooks"
SERVICE_GITHUB: Final = "github"
SERVICE_GITLAB: Final = "gitlab"

# The room widget state type (Element's, which hookshot uses), and our widgets' state keys.
WIDGET_STATE: Final = "im.vector.modular.widgets"
WIDGET_STATE_KEY_PREFIX: Final = "hookshot_room_config_"

# Ours: room account data in an upgraded room once its connections moved to the replacement
# room: {"replacement_room": room_id}. Its absence after a tombstone means "not done yet".
ROOM_UPGRADED: Final = "org.hookshot-python.room.upgraded"

# Matrix event types and values we use.
M_ROOM_MESSAGE: Final = "m.room.message"
M_ROOM_MEMBER: Final = "m.room.member"
M_ROOM_POWER_LEVELS: Final = "m.room.power_levels"
M_ROOM_CREATE: Final = "m.room.create"
M_ROOM_TOMBSTONE: Final = "m.room.tombstone"
M_REACTION: Final = "m.reaction"
M_RELATES_TO: Final = "m.relates_to"
M_IN_REPLY_TO: Final = "m.in_reply_to"
M_NEW_CONTENT: Final = "m.new_content"
REL_THREAD: Final = "m.thread"
REL_REPLACE: Final = "m.replace"
REL_ANNOTATION: Final = "m.annotation"
# Send-job payload key: the message's place in its subject's thread (core/threads.py).
THREAD_KEY: Final = "thread"
# ValueStore key prefixes (ours): a subject's thread root in a room, `thread:{room}:{key}`;
# the room an upgraded room replaced, `predecessor:{new room}` -> old room (core/lineage.py).
THREAD_RECORD_PREFIX: Final = "thread:"
ROOM_PREDECESSOR_PREFIX: Final = "predecessor:"
# Ours: content key of a thread root that continues one from before a room upgrade:
# {"room_id": the old room, "event_id": the old root} (core/thread_links.py).
THREAD_LINK_CONTENT_KEY: Final = "org.hookshot-python.thread.continues"
# Send-job payload key: the message's digest group label and threshold (core/digest.py).
DIGEST_KEY: Final = "digest"
# Ours: content key of a digest message: {"events": how many it stands for, "shown": listed}.
DIGEST_CONTENT_KEY: Final = "org.hookshot-python.digest"
# ValueStore keys: a GitHub PR's/issue's state for its thread root; which PR a branch heads.
GITHUB_SUBJECT_PREFIX: Final = "ghsubject:"
GITHUB_BRANCH_PREFIX: Final = "ghbranch:"
M_NOTICE: Final = "m.notice"
HTML_FORMAT: Final = "org.matrix.custom.html"
