"""The one private-key detector shared by the build and `slim analyze`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim._slimming.privatekeys import CHUNK, file_holds_private_key, holds_private_key, key_by_name
from tests.key_samples import pem, service_account_json


@pytest.mark.parametrize(
    "label", ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]
)
def test_pem_private_keys_are_found(label: str) -> None:
    assert holds_private_key(pem(label).encode())


def test_a_key_pasted_into_a_string_with_escaped_newlines_is_found() -> None:
    assert holds_private_key(service_account_json().encode())
    assert holds_private_key(f"KEY = {pem('PRIVATE KEY')!r}\n".encode())


def test_certificates_and_code_naming_the_header_are_not_keys() -> None:
    bundle = (pem("CERTIFICATE") * 3).encode()  # what certifi's cacert.pem holds
    assert not holds_private_key(bundle)
    code = b'if line.strip() == "-----BEGIN RSA PRIVATE KEY-----":\n    return parse_rsa(lines)\n'
    assert not holds_private_key(code)
    assert not holds_private_key(pem("PUBLIC KEY").encode())


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("deploy/id_rsa", True),
        ("id_ed25519", True),
        ("deploy/id_rsa.pub", False),
        ("certs/client.p12", True),
        ("certs/CLIENT.PFX", True),
        ("keys/me.ppk", True),
        ("certifi/cacert.pem", False),  # a .pem is judged by its content
        ("app/handler.py", False),
    ],
)
def test_key_files_known_by_their_name(path: str, found: bool) -> None:
    assert (key_by_name(path) is not None) == found


def test_a_key_across_the_boundary_of_two_reads_is_found(tmp_path: Path) -> None:
    key = pem("RSA PRIVATE KEY")
    for cut in (len("-----BEGIN RSA"), len("-----BEGIN RSA PRIVATE KEY-----\n") + 10):
        path = tmp_path / f"cut{cut}.txt"
        path.write_text("#" * (CHUNK - cut) + key)
        assert file_holds_private_key(path)
    plain = tmp_path / "plain.txt"
    plain.write_text("#" * (3 * CHUNK))
    assert not file_holds_private_key(plain)
