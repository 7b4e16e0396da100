"""Names and numbers for the simulated centre: agents, callers, the centre's lines.

Numbers come from ranges set aside for drama and documentation (Ofcom's 020 7946
0xxx and 01632 960xxx), so a simulated log can never ring a real person.
"""

from __future__ import annotations

import math

FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun",
    "Kai", "Lea", "Max", "Nia", "Oto", "Pia", "Quin", "Rui", "Sol", "Tess",
    "Uma", "Vic", "Wen", "Xan", "Yara", "Zed", "Ada", "Bo", "Cy", "Dina",
    "Emi", "Finn", "Gia", "Hugo", "Ines", "Jo", "Kira", "Luca", "Mei", "Nils",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Silva", "Okafor", "Novak", "Rossi", "Khan", "Berg", "Moreau", "Tanaka",
    "Costa", "Ivanova", "Haddad", "Lopez", "Meyer", "Nguyen", "Olsen", "Patel",
    "Quist", "Reyes", "Sato", "Torres", "Uddin", "Varga", "Walsh", "Yilmaz",
)  # fmt: skip


def agent_name(index: int) -> str:
    """A distinct, human-looking name for agent number `index` (0-based).

    First names and surnames both move on with every agent, so a floor of 40 reads
    like a real one ("Ana Silva", "Ben Okafor", ...), not 40 Silvas. The surname
    index also shifts by one every `lcm(first, surnames)` agents: with 40 and 24
    names that is 120, and the shift keeps all 960 pairs distinct before a lap
    number is added.
    """
    firsts, surnames = len(FIRST_NAMES), len(SURNAMES)
    pairs = firsts * surnames
    cycle = math.lcm(firsts, surnames)
    within = index % pairs
    first = FIRST_NAMES[within % firsts]
    surname = SURNAMES[(within + within // cycle) % surnames]
    lap = index // pairs
    return f"{first} {surname}" if lap == 0 else f"{first} {surname} {lap + 1}"


def caller_number(n: int) -> str:
    """A fake caller number (Ofcom drama range 020 7946 0000-0999)."""
    return f"+44207946{n % 1000:04d}"


def centre_number(queue_index: int) -> str:
    """The number callers dial for a queue (Ofcom drama range 01632 960xxx)."""
    return f"+44163296{queue_index % 1000:04d}"


def agent_phone(index: int) -> str:
    """An agent's own phone, dialled first in a click-to-call (connect two numbers)."""
    return f"+44163296{(500 + index) % 1000:04d}"
