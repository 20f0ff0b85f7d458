"""Parties' messages and complaints (seed 001 第十条; seed 004 “天德”): the kinds, their names, and the limits that
keep one party from flooding a handler. Who answers each kind is its rule's ``assignee`` (domain/rules.py)."""

from __future__ import annotations

from typing import Literal

MessageKind = Literal["message", "complaint"]
KIND_NAMES: dict[str, str] = {"message": "留言", "complaint": "投诉"}
# Where a kind goes, in the words the party reads (seed 004: complaints straight to the discipline group).
KIND_DESTINATIONS: dict[str, str] = {"message": "案件承办人", "complaint": "驻院纪检监察组"}
MAX_TEXT = 2000  # characters of a message or a reply
MAX_PER_DAY = 20  # messages and complaints one party may send in 24 hours
MAX_ATTACHMENTS = 5  # files with one message (materials; asset clues with photos)


MESSAGE_REASON = "message:"  # the outbox reason of the SMS announcing a message or complaint: message:<id>
REPLY_REASON = "reply:"  # and of the SMS telling the party of its reply: reply:<id>
