"""Where things are, for tests that read the repository's files."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"
PROTOCOL_DATA = ROOT / "protocols" / "data"
