"""Who the crowd is: invented people drawn from a seed, in the roles a chat needs, and the
accounts the chat file names. Pure."""

from __future__ import annotations

import random

from bot.core.config import ChatConfig
from bot.rehearsal.crowd import Persona, Role

# Below this size there is no room for the special roles: everyone is a regular.
SPECIAL_ROLES_FROM = 8

_SERVERS = (None, None, "care.example", "social.example", "town.example", "health.example")
_FIRST_NAMES = (
    "Amira", "Ben", "Chloe", "Dev", "Efua", "Finn", "Grace", "Hamid", "Ines", "Jonah",
    "Kezia", "Liam", "Mei", "Nadia", "Owen", "Priya", "Quentin", "Rosa", "Sami", "Tess",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zara", "Aled", "Bronwen", "Cormac", "Deepa",
    "Eilidh", "Femi", "Gwen", "Harriet", "Idris", "Jo", "Kwame", "Lowri", "Marta", "Niamh",
    "Oluwa", "Petra", "Rhys", "Sian", "Tomasz", "Una", "Wiktor", "Yara",
)  # fmt: skip
_SURNAME_INITIALS = "ABCDEFGHJKLMNOPRSTVWY"
_BIOS = (
    "Trying to make services kinder.", "Views my own.", "Learning in public.",
    "Data, tea and long walks.", "Always asking why.", "Listening first.",
)  # fmt: skip


def draw_people(rng: random.Random, size: int) -> list[Persona]:
    """``size`` invented people, drawn from ``rng``: regulars, and from ``SPECIAL_ROLES_FROM``
    people on, one of each special role and a lurker in ten."""
    roles: list[Role] = ["regular"] * size
    if size >= SPECIAL_ROLES_FROM:
        specials: list[Role] = ["stopper", "nobot", "bot"]
        specials += ["lurker"] * (size // 10)
        roles[: len(specials)] = specials
        rng.shuffle(roles)
    people = []
    taken: set[str] = set()
    for role in roles:
        first = rng.choice(_FIRST_NAMES)
        initial = rng.choice(_SURNAME_INITIALS)
        username = f"{first.lower()}_{initial.lower()}"
        while username in taken:
            username += str(rng.randrange(10))
        taken.add(username)
        bio = rng.choice(_BIOS)
        if role == "nobot":
            bio += " #NoBot please."
        display = f"{first} {initial}."
        if role == "bot":
            username, display, bio = (
                f"digest_{len(taken)}",
                "Practice News Digest",
                ("Automated account: posts new articles from our blog."),
            )
            taken.add(username)
        people.append(
            Persona(
                username=username,
                display_name=display,
                server=rng.choice(_SERVERS),
                followers=int(rng.lognormvariate(5.0, 1.2)),
                bio=bio,
                role=role,
                is_bot=role == "bot",
            )
        )
    return people


def named_accounts(config: ChatConfig) -> list[Persona]:
    """The guests (``boost.always``) and hosts the chat file names, as crowd accounts."""
    people = []
    taken: set[str] = set()
    for role, handles in (("guest", config.boost.always), ("host", config.chat.hosts)):
        for handle in handles:
            username, _, server = handle.lstrip("@").partition("@")
            if username.lower() in taken:
                continue
            taken.add(username.lower())
            people.append(
                Persona(
                    username=username,
                    display_name=username.replace("_", " ").title(),
                    server=server or None,
                    followers=250,
                    bio="Guest of the chat." if role == "guest" else "Host of the chat.",
                    role="guest" if role == "guest" else "host",
                )
            )
    return people
