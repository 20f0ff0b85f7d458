"""Activity names: what workflows refer to, without importing activity code into the sandbox."""

MARK_CASE_OPEN = "mark_case_open"
SAVE_NODE = "save_node"
MARK_CASE_CLOSED = "mark_case_closed"
NOTIFY_PARTIES = "notify_parties"
SAVE_OBLIGATION = "save_obligation"
FIRE_RUNG = "fire_rung"
SAVE_EXTENSION = "save_extension"
