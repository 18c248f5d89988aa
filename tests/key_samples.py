"""Private-key look-alikes for the tests: the right armour around made-up base64, never a usable key."""

from __future__ import annotations

import base64
import hashlib


def pem(label: str, lines: int = 12) -> str:
    """A PEM block such as `pem("RSA PRIVATE KEY")`, 64-column base64 lines of hash output as its body."""
    body = base64.b64encode(b"".join(hashlib.sha512(label.encode() + bytes([i])).digest() for i in range(lines)))
    rows = [body[i : i + 64].decode() for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *rows, f"-----END {label}-----"]) + "\n"


def service_account_json() -> str:
    """The shape of a cloud service-account key file: the PEM inside a JSON string, its newlines escaped."""
    escaped = pem("PRIVATE KEY").replace("\n", "\\n")
    return '{"type": "service_account", "private_key": "' + escaped + '", "client_email": "ci@example.iam"}\n'
