"""What the simulated GWS/OCS knows: users, devices, features, campaigns, lists, applications.

The catalog is plain data so a test or a YAML file can describe another contact centre.
The defaults reproduce the documentation sample (`Campaign1` / `CallingList1` / application 134,
device `4d72a6b5-...`), so the sample request works against the simulator as printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_DEVICE_ID = "4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7"

#: Features a GWS user can have; AddRecord needs `api-voice-outbound`.
DEFAULT_FEATURES: tuple[str, ...] = (
    "api-voice",
    "api-voice-outbound",
    "api-user-account-management",
    "api-devices",
)


@dataclass(frozen=True)
class Device:
    """A device (DN) that belongs to a user; its devicePath is `/devices/<id>`."""

    id: str
    """The device's UUID, as GWS gives it."""
    phone_number: str
    """The DN of the device."""
    state: str = "Active"
    """GWS `deviceState`."""

    @property
    def path(self) -> str:
        return f"/devices/{self.id}"

    def as_json(self, full: bool, logged_in: bool = False,
                do_not_disturb: bool = False) -> dict[str, object]:
        """The device as `GET /api/v2/me/devices` gives it (`full` for `?fields=*`); the user
        state says whether an agent is logged in on the DN (StartContactCenterSession)."""
        if not full:
            return {"id": self.id, "path": self.path}
        state = ({"state": "NotReady", "displayName": "Not Ready"} if logged_in
                 else {"state": "LoggedOut", "displayName": "Logged Out"})
        return {
            "id": self.id,
            "path": self.path,
            "deviceState": self.state,
            "phoneNumber": self.phone_number,
            "e164Number": self.phone_number,
            "telephonyNetwork": "Private",
            "doNotDisturb": "On" if do_not_disturb else "Off",
            "userState": state,
            "capabilities": ["Dial", "DoNotDisturbOn", "SetNotReady"],
        }


@dataclass(frozen=True)
class Place:
    """A place (Configuration Server object) grouping DNs; StartContactCenterSession logs the
    agent in on its device."""

    name: str
    """The place's name, as StartContactCenterSession's `place` gives it."""
    device_ids: tuple[str, ...]
    """Devices (DNs) of the place; the simulator's places have one each."""


@dataclass(frozen=True)
class User:
    """A GWS user (an agent) the simulator accepts."""

    user_name: str
    """Login name, used in Basic auth."""
    password: str = field(repr=False)
    """The password (never printed by `repr`)."""
    devices: tuple[Device, ...]
    """The user's devices; AddRecord's devicePath must name one of them."""
    features: tuple[str, ...] = DEFAULT_FEATURES
    """Features enabled for this user (`api-voice-outbound` is needed for AddRecord)."""
    first_name: str = "Demo"
    """Shown by `GET /api/v2/me`."""
    last_name: str = "Agent"
    """Shown by `GET /api/v2/me`."""
    user_id: str = "7e9b3b2c-0c8a-4e1c-9a1e-3f1f6d1c0001"
    """GWS user id."""
    places: tuple[Place, ...] = ()
    """Places the user may start a session at; the first is the default place (none given:
    one place per device, named `Place_<DN>` [ours])."""

    def all_places(self) -> tuple[Place, ...]:
        if self.places:
            return self.places
        return tuple(Place(f"Place_{d.phone_number}", (d.id,)) for d in self.devices)

    def device(self, device_id: str) -> Device | None:
        for device in self.devices:
            if device.id == device_id:
                return device
        return None

    def device_at(self, path: str) -> Device | None:
        """The user's device whose path is `path` (`/devices/<id>`)."""
        for device in self.devices:
            if device.path == path:
                return device
        return None

    def as_json(self, subresources: set[str],
                logged_in: frozenset[str] = frozenset()) -> dict[str, object]:
        """The user as `GET /api/v2/me[?subresources=...]` gives it (`logged_in`: ids of the
        devices with an agent logged in)."""
        body: dict[str, object] = {
            "id": self.user_id,
            "userName": self.user_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "roles": ["ROLE_AGENT"],
            "path": "/me",
        }
        everything = "*" in subresources
        if everything or "devices" in subresources:
            body["devices"] = [d.as_json(full=True, logged_in=d.id in logged_in)
                               for d in self.devices]
        if everything or "features" in subresources:
            body["features"] = list(self.features)
        return body


@dataclass(frozen=True)
class Campaign:
    """An outbound campaign and the calling lists attached to it."""

    name: str
    """Campaign name, as AddRecord's campaignName gives it."""
    calling_lists: tuple[str, ...]
    """Calling lists that belong to the campaign (AddRecord must name one of them)."""


@dataclass(frozen=True)
class Catalog:
    """Everything the simulated contact centre has configured."""

    applications: frozenset[int] = frozenset({134, 135})
    """OCS application DBIDs that AddRecord's applicationId may name."""
    campaigns: tuple[Campaign, ...] = (
        Campaign("Campaign1", ("CallingList1", "CallingList2")),
        Campaign("Collections_EU", ("CL_Collections_DE", "CL_Collections_FR")),
        Campaign("Retention", ("CL_Retention_Main",)),
    )
    """Campaigns and their calling lists."""

    def campaign(self, name: str) -> Campaign | None:
        for campaign in self.campaigns:
            if campaign.name == name:
                return campaign
        return None

    def all_calling_lists(self) -> set[str]:
        return {cl for c in self.campaigns for cl in c.calling_lists}


def demo_user(password: str, user_name: str = "demo") -> User:
    """The demo user: the documentation sample's device plus a second one."""
    return User(
        user_name=user_name,
        password=password,
        devices=(
            Device(SAMPLE_DEVICE_ID, "5001"),
            Device("9b2f61c0-5a7e-4c55-8d0f-2b6f0e4a1c02", "5002"),
        ),
    )
