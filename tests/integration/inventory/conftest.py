import pytest

from tests.support import FIXTURES


@pytest.fixture
def rulesets_dir():
    return FIXTURES / "rulesets"


@pytest.fixture
def active_ruleset() -> str:
    return "ledger@1"
