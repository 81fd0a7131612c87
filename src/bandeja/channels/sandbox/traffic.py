"""Simulated customers: who writes, on which platform, what, and when."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bandeja.channels.sandbox import corpus
from bandeja.channels.sandbox.contract import (
    SandboxChannel,
    SimEdit,
    SimEvent,
    SimMessage,
    SimPerson,
    SimReaction,
)
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform

Language = Literal["en", "es", "it"]
LANGUAGES: tuple[Language, ...] = ("en", "es", "it")

# What people can do to a business on each platform.
KINDS: dict[Platform, tuple[Literal["dm", "comment", "mention"], ...]] = {
    Platform.messenger: ("dm", "dm", "comment"),
    Platform.instagram: ("dm", "dm", "comment", "mention"),
    Platform.whatsapp: ("dm",),
    Platform.x: ("dm", "mention"),
    Platform.linkedin: ("comment", "mention"),
    Platform.telegram: ("dm",),
}


def person_id(platform: Platform, rng: random.Random) -> str:
    if platform is Platform.whatsapp:
        return "3" + "".join(rng.choice("0123456789") for _ in range(10))
    if platform is Platform.linkedin:
        return "urn:li:person:" + "".join(
            rng.choice("abcdefghijkABCDEFGH0123456789") for _ in range(10)
        )
    return str(rng.randrange(10**15, 10**16))


@dataclass
class Traffic:
    state: SandboxState
    rng: random.Random
    people_per_channel: int = 12

    def __post_init__(self) -> None:
        self._people: dict[int, list[SimPerson]] = {}
        self._said: dict[int, list[tuple[SimPerson, str, str]]] = {}  # recent inbound messages

    def people(self, channel: SandboxChannel) -> list[SimPerson]:
        if channel.bandeja_id not in self._people:
            crowd = []
            for _ in range(self.people_per_channel):
                language = self.rng.choice(LANGUAGES)
                first, last = self.rng.choice(corpus.NAMES[language])
                person = SimPerson(
                    id=person_id(channel.platform, self.rng),
                    name=f"{first} {last}",
                    handle=f"{first}.{last}".lower().replace("í", "i").replace("é", "e"),
                    language=language,
                    accepts_dms=self.rng.random() > 0.1,
                )
                self.state.add_person(channel.platform, person)
                crowd.append(person)
            self._people[channel.bandeja_id] = crowd
        return self._people[channel.bandeja_id]

    def next_event(self, channel: SandboxChannel, now: datetime | None = None) -> SimEvent:
        """One plausible thing a customer does now on ``channel``."""
        now = now or datetime.now(UTC)
        said = self._said.setdefault(channel.bandeja_id, [])
        roll = self.rng.random()
        if said and roll < 0.08:
            person, message_id, _ = self.rng.choice(said)
            return SimReaction(
                person=person,
                message_id=message_id,
                reaction=self.rng.choice(corpus.REACTIONS),
                at=now,
            )
        if said and roll < 0.11:
            person, message_id, text = self.rng.choice(said)
            return SimEdit(person=person, message_id=message_id, text=text + " (edit)", at=now)
        person = self.rng.choice(self.people(channel))
        kind = self.rng.choice(KINDS[channel.platform])
        language = person.language
        post_id = post_text = None
        if kind == "dm":
            text = self.rng.choice(corpus.DMS[language]).format(n=self.rng.randrange(1000, 9999))
        elif kind == "comment":
            text = self.rng.choice(corpus.COMMENTS[language])
            post_index = self.rng.randrange(len(corpus.POSTS))
            post_id, post_text = f"{channel.external_id}_post{post_index}", corpus.POSTS[post_index]
        else:
            # "@cafeaurora" or "Café Aurora": the handle without its "@" (the text adds one).
            brand = channel.name.split()[0].lower().lstrip("@")
            text = self.rng.choice(corpus.MENTIONS[language]).format(brand=brand)
            post_id = f"post{self.rng.randrange(10**9)}"
        message_id = self.state.new_id(f"sbx-{channel.platform.value}-in")
        if kind == "dm":
            self.state.wrote(channel, person.id, now)
        said.append((person, message_id, text))
        del said[:-50]
        return SimMessage(
            person=person,
            message_id=message_id,
            text=text,
            at=now,
            kind=kind,
            post_id=post_id,
            post_text=post_text,
        )
