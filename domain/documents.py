"""Which execution documents are served electronically (seed 001 第六条): the procedural ones. Rulings (裁定书) and
decisions (决定书) are outside e-service and are served in person, by post or as the law provides; they may still be
disclosed to the parties in the portal. A document is known by its title, as courts name them (冻结裁定书,
罚款决定书, 执行通知书 …)."""

from __future__ import annotations

NOT_ESERVED = ("裁定书", "决定书")  # 执行裁定书、决定书以外的程序性执行文书 (seed 001 第六条)
NOT_ESERVED_NOTE = "执行裁定书、决定书不适用电子送达，请以直接送达、邮寄等方式送达"


def eservable(title: str) -> bool:
    """A procedural document, served electronically to the parties who consented; not a ruling or a decision."""
    return not any(kind in title for kind in NOT_ESERVED)
