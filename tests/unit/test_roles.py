import pytest

from service.domain.roles import Role, UnknownRole


def test_admin_may_act_for_any_channel_and_location():
    role = Role.parse("admin")
    assert role.may_use_channel("web") and role.may_use_location("ST-1")


def test_a_channel_key_acts_only_for_its_channel():
    role = Role.parse("channel:web")
    assert role.may_use_channel("web")
    assert not role.may_use_channel("marketplace")
    assert not role.may_use_location("ST-1")


def test_a_location_key_acts_only_for_its_location():
    role = Role.parse("location:ST-0001")
    assert role.may_use_location("ST-0001") and not role.may_use_location("ST-0002")
    assert str(role) == "location:ST-0001"


@pytest.mark.parametrize("text", ["", "root", "channel:", "channel:Web Shop", "location:", "x:y"])
def test_unknown_roles_are_refused(text):
    with pytest.raises(UnknownRole):
        Role.parse(text)


def test_an_erp_key_acts_for_no_channel_and_no_location():
    role = Role.parse("erp")
    assert (role.kind, role.scope, str(role)) == ("erp", None, "erp")
    assert not role.is_admin
    assert not role.may_use_channel("web") and not role.may_use_location("ST-1")
