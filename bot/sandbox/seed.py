"""A fake Slack workspace that knows the people, channels and user groups of a config."""

from __future__ import annotations

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack


def config_people(config: Config) -> set[str]:
    """Every user ID the config names: members, rotations, and people in the RACI table."""
    people: set[str] = set()
    for team in config.teams.values():
        people.update(team.members)
        if team.oncall is not None:
            people.update(team.oncall.rotation)
    for area in config.areas.values():
        for name in (area.responsible, area.accountable, *area.consulted, *area.informed):
            if name not in config.teams:
                people.add(name)
    return people


def seed(fake: FakeSlack, config: Config, *, also: tuple[str, ...] = ()) -> None:
    """Add the config's people (and `also`), its channels and user groups to `fake`."""
    people = config_people(config) | set(also)
    for user in sorted(people - set(fake.users)):
        fake.add_user(user, user.lower())
    channels = {
        **{cid: role for role, cid in config.channels.model_dump().items() if cid},
        **{team.channel: name for name, team in config.teams.items() if team.channel},
    }
    for cid, name in channels.items():
        if cid not in fake.channels:
            fake.add_channel(name, members=people, channel_id=cid, bot_member=False)
    for team in config.teams.values():
        if team.usergroup and team.usergroup not in fake.usergroups:
            fake.add_usergroup(team.usergroup, list(team.members))
