"""A local stand-in for Twilio's Messages API, enough for the official client: tests stay off the internet."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections import deque
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "stub-auth-token"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Twilio's own error codes for the statuses a test is likely to ask for.
_DEFAULT_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


class TwilioStub:
    """Accepts messages like Twilio does and remembers them; ``fail_next`` makes the next POSTs fail."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.received: list[dict[str, Any]] = []  # messages accepted (201), oldest first
        self.attempts: list[dict[str, str]] = []  # every POST's form, accepted or not
        self.lists: list[dict[str, str]] = []  # every GET's query parameters
        self._failures: deque[tuple[int, int]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """What ``client.api.base_url`` is set to: the client appends ``/2010-04-01/Accounts/...``."""
        assert self._server is not None, "start() the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-stub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> TwilioStub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, n: int, status: int, code: int | None = None) -> None:
        """Answer the next ``n`` message POSTs with ``status`` and Twilio error ``code``, sending nothing."""
        with self._lock:
            self._failures.extend([(status, code or _DEFAULT_CODES.get(status, status))] * n)

    def sent_to(self, to: str) -> list[dict[str, Any]]:
        """The accepted messages for one E.164 number."""
        with self._lock:
            return [m for m in self.received if m["to"] == to]

    # Called from the server's threads.

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.attempts.append(form)
            if self._failures:
                status, code = self._failures.popleft()
                return status, _error(status, code, f"Stub failure {status}")
            missing = [(k, c) for k, c in (("To", 21604), ("From", 21603), ("Body", 21602)) if not form.get(k)]
            if missing:
                key, code = missing[0]
                return 400, _error(400, code, f"A '{key}' parameter is required.")
            if not _E164.match(form["To"]):
                return 400, _error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
            now = datetime.now(UTC).replace(microsecond=0)
            msg = {
                "sid": "SM" + secrets.token_hex(16),
                "to": form["To"],
                "from": form["From"],
                "body": form["Body"],
                "date_created": now,
            }
            self.received.append(msg)
        return 201, self._resource(msg, status="queued", date_sent=None)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.lists.append(query)
            msgs = [m for m in self.received if _matches(m, query)]
        msgs.reverse()  # Twilio lists the newest first
        page, size = int(query.get("Page", 0)), int(query.get("PageSize", 50))
        chunk = msgs[page * size : (page + 1) * size]
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(p: int) -> str:
            return base + "?" + urlencode({**filters, "PageSize": size, "Page": p})

        more = (page + 1) * size < len(msgs)
        return {
            "messages": [self._resource(m, status="sent", date_sent=m["date_created"]) for m in chunk],
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) + f"&PageToken=PA{page + 1}" if more else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "page": page,
            "page_size": size,
            "start": page * size,
            "uri": uri(page),
        }

    def _resource(self, msg: dict[str, Any], *, status: str, date_sent: datetime | None) -> dict[str, Any]:
        """A Message resource as Twilio writes it (RFC 2822 dates, numbers as strings)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{msg['sid']}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": msg["body"],
            "date_created": format_datetime(msg["date_created"]),
            "date_sent": format_datetime(date_sent) if date_sent else None,
            "date_updated": format_datetime(msg["date_created"]),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": msg["from"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": msg["sid"],
            "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": msg["to"],
            "uri": f"{uri}.json",
        }


class _Handler(BaseHTTPRequestHandler):
    stub: TwilioStub

    def do_POST(self) -> None:
        if not self._route():
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
        status, payload = self.stub._create({k: v[-1] for k, v in raw.items()})
        self._reply(status, payload)

    def do_GET(self) -> None:
        if not self._route():
            return
        raw = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        self._reply(200, self.stub._list({k: v[-1] for k, v in raw.items()}))

    def _route(self) -> bool:
        """Check the credentials, then the path; answer with Twilio's errors when either is wrong."""
        expected = base64.b64encode(f"{self.stub.account_sid}:{self.stub.auth_token}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._reply(401, _error(401, 20003, "Authenticate"))
            return False
        m = _MESSAGES.match(urlsplit(self.path).path)
        if m is None or m["sid"] != self.stub.account_sid:
            self._reply(404, _error(404, 20404, "The requested resource was not found"))
            return False
        return True

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the assertions, not an access log."""


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _matches(msg: dict[str, Any], query: dict[str, str]) -> bool:
    """Twilio's list filters: To, From, DateSent (that day), DateSent> (on or after), DateSent< (before)."""
    if "To" in query and msg["to"] != query["To"]:
        return False
    if "From" in query and msg["from"] != query["From"]:
        return False
    sent: datetime = msg["date_created"]
    if "DateSent" in query and sent.date() != _moment(query["DateSent"]).date():
        return False
    if "DateSent>" in query and sent < _moment(query["DateSent>"]):
        return False
    return not ("DateSent<" in query and sent >= _moment(query["DateSent<"]))


def _moment(value: str) -> datetime:
    """``YYYY-MM-DD`` (GMT midnight) or ``YYYY-MM-DDTHH:MM:SSZ``, the two forms the client sends."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time.min, UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
