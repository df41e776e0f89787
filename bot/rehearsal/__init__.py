"""A rehearsal: the chat played now on compressed time, against in-memory servers and a
simulated crowd, with nothing sent anywhere.

``wiring`` builds it for `tweetchat rehearse`; ``world`` is the in-memory server of a
platform, ``platform`` the bot's account on it; ``crowd`` is the crowd's plan as data, drawn
by ``crowd_plan`` (from ``crowd_people`` and ``crowd_texts``, all pure) and played into the
servers by ``crowd_player``.
"""
