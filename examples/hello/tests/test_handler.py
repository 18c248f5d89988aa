import json
from pathlib import Path

from handler import handler

HERE = Path(__file__).resolve().parents[1]


def test_handler_returns_expected():
    event = json.loads((HERE / "event.json").read_text())
    assert handler(event, None) == json.loads((HERE / "expected.json").read_text())
