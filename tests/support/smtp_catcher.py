"""A local SMTP server (aiosmtpd) that keeps every message it receives, for tests.

The PDS under test sends its real password-reset e-mails here
(`emailSmtpUrl`), so a test can read the code an official would receive.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.support.ports import free_port

__all__ = ["SmtpCatcher", "start_smtp_catcher"]


@dataclass
class SmtpCatcher:
    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, to: str, *, timeout: float = 20.0) -> email.message.EmailMessage:
        """The newest message sent to `to`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in reversed(self.messages):
                    if to.lower() in str(message["To"]).lower():
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no e-mail to {to} within {timeout} s")

    @staticmethod
    def reset_code(message: email.message.EmailMessage) -> str:
        """The XXXXX-XXXXX code of a PDS password-reset e-mail."""
        text = message.get_body(preferencelist=("plain",)).get_content()
        found = re.search(r"\b([A-Z2-7]{5}-[A-Z2-7]{5})\b", text)
        assert found, "no reset code in the e-mail"
        return found.group(1)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


def start_smtp_catcher() -> SmtpCatcher:
    catcher = SmtpCatcher(free_port())
    catcher.controller = Controller(catcher, hostname="127.0.0.1", port=catcher.port)
    catcher.controller.start()
    return catcher
