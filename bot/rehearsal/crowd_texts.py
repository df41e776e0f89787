"""What the crowd says: the words of introductions, answers, replies and thanks, which the
plan (``crowd_plan``) draws from, and the words of a question an answer echoes."""

from __future__ import annotations

import re

INTRO_ROLES = (
    "Practice nurse", "Researcher", "Team lead", "Patient advocate", "Student", "Carer",
    "Community organiser", "Practice manager", "GP", "Volunteer", "Data analyst",
    "Pharmacist", "Receptionist", "Service designer", "Health visitor", "Trainer",
)  # fmt: skip
INTRO_PLACES = (
    "from Leeds", "in Bristol", "in Cardiff", "near Glasgow", "in Belfast", "from Norwich",
    "in a small town in Devon", "from Manchester", "in Swansea", "from York", "in Dundee",
    "from the Lakes", "in east London", "from Hull",
)  # fmt: skip
INTRO_EXTRAS = (
    "First time here!", "Long-time lurker, first chat.", "Here to learn.", "Tea in hand.",
    "Looking forward to this one.", "Glad to be back.", "Hello everyone!", "",
)  # fmt: skip
# Answers: a sentence about one of the question's own words, and one that fits any question.
ON_TOPIC = (
    "On {kw}: we are better than we were, not yet good.",
    "When it comes to {kw}, small and regular beats big and rare.",
    "We keep coming back to {kw}.",
    "For us the answer starts with {kw}.",
    "Underrated: {kw}.",
    "The honest answer on {kw}: it depends who you ask.",
    "Our biggest lesson about {kw} came from a complaint we nearly ignored.",
    "I would put {kw} first, then everything else.",
    "Two words: {kw} and patience.",
    "We are trialling a new approach to {kw} this year.",
    "Nobody owned {kw} until last spring.",
    "Someone new to the team challenged us on {kw}, and they were right.",
)
ANY_TOPIC = (
    "Honestly? We collect far more than we ever read.",
    "Small, regular changes have worked better for us than big plans.",
    "Still working this out, and keen to learn from you all.",
    "It depends on the week, if I am honest.",
    "We tried three things before one stuck.",
    "The people closest to the work usually know first.",
    "Making it somebody's actual job changed everything.",
    "Time is the real barrier, not willingness.",
    "Listening is easy; acting on it is the hard part.",
    "We share what we learn at every team meeting now.",
    "Asking in person gets very different answers from a form.",
    "Nobody had time until we made time.",
    "The quiet voices matter most and are heard least.",
    "A whiteboard in the staff room did more than any report.",
)
REPLIES = (
    "Love this, we do something similar.",
    "How did you get people on board with that?",
    "Same here! Did it last?",
    "This is really useful, thank you.",
    "Interesting: we found the opposite.",
    "Could you say more about how that works?",
    "Yes! This is exactly it.",
    "Borrowing this idea for our team.",
    "Did you measure the difference?",
    "That matches what we hear too.",
)
REPLY_TOPICS = (
    "",
    "Great point about {kw}.",
    "Where we struggle most: {kw}.",
    "We should talk about {kw} more.",
    "Especially the {kw} part.",
)
# The author's answer back, and thanks after the closing: an opening and a second part.
REPLY_BACKS = (
    ("Thanks!", "Glad it helps.", "Ha, yes.", "Good question.", "Exactly.", "Honestly,"),
    (
        "Happy to share our template.", "It did, mostly.", "Slowly, one team at a time.",
        "It took us years to get there.", "We started small.", "Our manager backed it early.",
        "Ask me anything.", "Still learning, though.", "It was messy at first.",
        "Worth trying, I promise.",
    ),
)  # fmt: skip
THANKS = (
    (
        "Thanks all!", "Thank you everyone!", "Great chat!", "Thanks for hosting!",
        "What an hour.", "Brilliant questions tonight.",
    ),
    (
        "Lots to think about.", "See you next time.", "So many ideas to take back to the team.",
        "My notebook is full.", "Off to share this with my team.", "Same time next month?",
        "Loved the stories.", "",
    ),
)  # fmt: skip
PREFIXES = ("A{n} ", "A{n}: ", "A{n}. ", "a{n} ", "A {n} ", "A.{n} ")
STOP = "stop, please: I would rather not be boosted or mentioned."
LINK = " More here: https://example.org/notes/{slug}"

# Words of five letters or more that say nothing about a question on their own.
_NOT_TOPICS = frozenset(
    (
        "about", "above", "after", "again", "their", "there", "these", "those", "which",
        "whose", "where", "would", "could", "should", "yours", "today", "doing", "having",
        "alongside", "behind", "being", "every", "other", "under", "gather", "reads", "trust",
        "close", "changed", "missing", "share", "think", "using", "learn", "works", "helps",
        "needs", "happen", "heard", "tonight", "really", "things", "because", "acting",
    )
)  # fmt: skip
_NOUN_ENDINGS = ("s", "tion", "ment", "ence", "ance", "ity", "ure", "ness", "ship", "back")


def keywords(text: str) -> list[str]:
    """The words of a question worth echoing in an answer, in their order: the ones that look
    like nouns, if any (a template says "on {kw}"), else every long word."""
    words = []
    for word in re.findall(r"[A-Za-z][A-Za-z-]+", text):
        lowered = word.lower()
        if len(lowered) >= 5 and lowered not in _NOT_TOPICS and lowered not in words:
            words.append(lowered)
    nouns = [w for w in words if w.endswith(_NOUN_ENDINGS) and not w.endswith("ss")]
    return nouns or words
