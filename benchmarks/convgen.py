"""A seeded generator of long conversations for the memory recall evaluation.

Each conversation is one user's sessions with an assistant. Turns talk about topics; each topic has
a small vocabulary of related words (a pet: dog, puppy, vet, leash, ...) that co-occur the way they
do in real chat. Some turns state a *fact* (the evidence); later questions ask about it in other
words: the question names the topic with a synonym or related word the evidence turn may not use,
so keyword overlap is imperfect (as in real long-term conversation benchmarks, where questions
paraphrase what was said weeks earlier). Nothing is tuned to a retriever: the same turns and
questions go to every method under test.

    python benchmarks/convgen.py --conversations 2 --seed 7   # prints a sample
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field

# topic → (words used in talk about it, fact templates (statement, question)); {x} is a detail.
TOPICS: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "pet": (
        "dog puppy vet leash walk park bark treats kennel fur groomer fetch collar".split(),
        [
            (
                "We finally adopted the puppy, we call him {x}.",
                "What name did they give the dog they adopted?",
            ),
            (
                "The vet says {x} needs a special diet now.",
                "What did the animal doctor recommend about the pet's diet?",
            ),
            (
                "Bought a new collar and leash at {x} for the walks.",
                "Where did they get the dog's new collar?",
            ),
        ],
    ),
    "work": (
        "job office manager promotion meeting colleague project deadline salary team boss career".split(),
        [
            ("I got the promotion, I'm now {x} on the team.", "What position did the promotion give them?"),
            (
                "My boss wants the project done before {x}.",
                "When must the project be finished for their manager?",
            ),
            ("Started a new job at {x} this month.", "Which employer did they begin the new job with?"),
        ],
    ),
    "travel": (
        "trip flight hotel vacation beach passport luggage airport tour museum abroad journey".split(),
        [
            (
                "We booked the flights to {x} for the summer vacation.",
                "Where will they fly for the summer holidays?",
            ),
            (
                "The hotel in {x} had an amazing view of the beach.",
                "Which place had the hotel overlooking the sea?",
            ),
            (
                "Lost my luggage at the airport in {x}, what a mess.",
                "At which airport did their bags go missing?",
            ),
        ],
    ),
    "food": (
        "cooking recipe dinner kitchen baking oven restaurant spicy vegetarian lunch bread chef".split(),
        [
            ("I've been baking {x} every weekend lately.", "What do they bake on weekends?"),
            ("Turns out I'm allergic to {x}, no more of that.", "What food allergy did they discover?"),
            ("Our favourite restaurant is {x}, the chef is great.", "Which restaurant do they like most?"),
        ],
    ),
    "health": (
        "doctor gym running workout knee injury yoga sleep diet marathon stretch fitness".split(),
        [
            ("Signed up for the {x} marathon in the spring.", "Which marathon did they register for?"),
            (
                "The doctor said my {x} needs rest for a month.",
                "Which body part did the physician tell them to rest?",
            ),
            ("Doing yoga at {x} three times a week now.", "Where do they practice yoga?"),
        ],
    ),
    "family": (
        "sister brother parents mom dad kids birthday wedding cousin grandma visit family".split(),
        [
            ("My sister {x} is getting married in June.", "Which sister has a wedding in June?"),
            ("Mom turns {x} next week, planning a party.", "How old is their mom turning?"),
            ("The kids start school at {x} in the fall.", "Which school will the children attend?"),
        ],
    ),
    "music": (
        "guitar piano concert band song lessons practice album singer chords drums playlist".split(),
        [
            ("I've been taking {x} lessons on Tuesdays.", "What lessons do they take each week?"),
            ("We got tickets to see {x} live in concert.", "Which concert did they buy tickets for?"),
            ("Practising the chords for {x} every night.", "Which song's chords are they practising?"),
        ],
    ),
    "home": (
        "apartment house rent move garden furniture neighbours kitchen paint sofa lease repairs".split(),
        [
            ("We are moving to a house in {x} next month.", "Where is the house they are moving to?"),
            ("Painted the living room {x} over the weekend.", "What colour did they paint the living room?"),
            ("The landlord raised the rent to {x}.", "How much is the rent after the increase?"),
        ],
    ),
}
DETAILS = (
    "Biscuit Pepper Luna Oslo Lisbon Kyoto Denver Acme Globex Initech sourdough croissants peanuts shellfish "
    "Boston Berlin Chicago knee ankle shoulder Maple Harbor Clara Nora Sofia sixty seventy Riverside Oakwood "
    "violin cello ukulele Coldplay Radiohead Hallelujah Wonderwall Brighton Leeds teal olive 1800 2100 lead "
    "principal senior Friday March Sunrise Bamboo Lotus Northside"
).split()
FILLER = [
    "Yeah, {a} and {b} have been on my mind all week.",
    "I was telling a friend about the {a}, it reminded me of the {b}.",
    "Not much new, just the usual {a} stuff and some {b}.",
    "Any tips on {a}? The {b} part is the hard one for me.",
    "Honestly the {a} was fine but the {b} took forever.",
    "That sounds good. How is the {a} going, and the {b}?",
    "We talked about the {a} again, and a bit about {b}.",
]


@dataclass
class Turn:
    id: str
    session: int
    role: str
    text: str


@dataclass
class Question:
    text: str
    evidence: str  # the id of the turn that answers it


@dataclass
class Conversation:
    user: str
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def generate(
    conversations: int = 10, sessions: int = 20, turns: int = 24, seed: int = 11
) -> list[Conversation]:
    rng = random.Random(seed)
    out = []
    for c in range(conversations):
        conv = Conversation(user=f"user{c}")
        facts: list[tuple[str, str]] = []  # (turn id, question)
        used: set[str] = set()  # each fact is told once per conversation: one evidence per question
        for s in range(sessions):
            topics = rng.sample(sorted(TOPICS), 2)
            for t in range(turns):
                topic = topics[t % 2]
                vocab, templates = TOPICS[topic]
                role = "user" if t % 2 == 0 else "assistant"
                tid = f"c{c}s{s}t{t}"
                fresh = [tpl for tpl in templates if tpl[0] not in used]
                if role == "user" and fresh and rng.random() < 0.12:
                    statement, question = rng.choice(fresh)
                    used.add(statement)
                    text = statement.format(x=rng.choice(DETAILS))
                    facts.append((tid, question))
                else:
                    a, b = rng.sample(vocab, 2)
                    text = rng.choice(FILLER).format(a=a, b=b)
                conv.turns.append(Turn(tid, s, role, text))
        for tid, question in facts:
            conv.questions.append(Question(question, tid))
        out.append(conv)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for conv in generate(args.conversations, sessions=2, seed=args.seed):
        for turn in conv.turns:
            print(f"{turn.id} {turn.role}: {turn.text}")
        for q in conv.questions:
            print(f"Q: {q.text} -> {q.evidence}")


if __name__ == "__main__":
    main()
