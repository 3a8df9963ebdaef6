"""A seeded generator of long two-person conversations for the memory recall evaluation, shaped
like public long-term conversation benchmarks (multi-session dialogs; each question's evidence is
one or more specific turns):

- two named speakers, 20 dated sessions spread over about ten months, ~20 turns each;
- conversation drifts: turns mix the session's topics with chit-chat and with other topics;
- facts are told in one of several wordings; questions name the speaker and either reuse a word of
  the fact ("What did Ann name the puppy?") or only paraphrase it ("What did Ann call the dog they
  took in?": "animal doctor" for "vet", "took in" for "adopted"): seven questions in ten reuse a word;
- distractors: the same kind of fact about someone else ("my cousin adopted a kitten"), and the
  topic's words all over ordinary turns;
- multi-hop questions whose evidence is two turns in different sessions;
- temporal questions: "when" questions, questions naming the month, and facts that were updated
  later (the evidence is the update).

Nothing is tuned to one retriever: every method under test gets the same turns and questions.

    python benchmarks/convgen.py --conversations 1 --seed 7   # prints a sample
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass, field

# A fact: the ways a speaker says it ({x}: its detail), the ways a question asks for it ({p}: the
# speaker), and a distractor said about someone else ({o}: who, {x}: another detail).
Fact = tuple[list[str], list[str], str]

TOPICS: dict[str, tuple[list[str], list[Fact]]] = {
    "pet": (
        "dog puppy vet leash walk park treats kennel fur groomer fetch collar cat".split(),
        [
            (
                ["We finally adopted a puppy, we named him {x}!", "Meet {x}, our new puppy, adopted him on Saturday."],
                ["What did {p} name the puppy?", "What did {p} call the dog they took in?", "What is the name of {p}'s new pet?"],
                "My cousin {o} adopted a kitten and called it {x}.",
            ),
            (
                ["The vet told us {x} has to be on a special diet.", "Vet visit today, strict diet from now on because of {x}."],
                ["What did the vet say about {p}'s pet's diet?", "What did the animal doctor say about {p}'s pet's food?", "Why is {p}'s pet eating differently now?"],
                "{o} said their vet recommended {x} for the dog.",
            ),
            (
                ["Got a fancy new collar at {x} for the walks.", "Picked up a collar and leash from {x} yesterday."],
                ["Where did {p} get the new collar?", "Where did {p} buy the dog's collar?", "Which shop did {p} get pet gear from?"],
                "{o} always buys treats at {x}.",
            ),
        ],
    ),
    "work": (
        "job office manager promotion meeting colleague project deadline salary team boss career".split(),
        [
            (
                ["Big news, I got promoted, I'm {x} now!", "They made me {x}, finally a promotion."],
                ["What promotion did {p} get?", "What new role did {p} get at work?", "What is {p}'s title after moving up?"],
                "{o} from my team became {x} last month.",
            ),
            (
                ["My boss wants the whole project wrapped up by {x}.", "Deadline for the project is {x}, my manager insists."],
                ["When is {p}'s project due?", "By when must {p} finish the assignment?", "What is the due date {p}'s supervisor set?"],
                "{o}'s project slipped to {x}.",
            ),
            (
                ["I accepted an offer from {x}, starting next month.", "Starting my new job at {x} soon!"],
                ["Where is {p} starting the new job?", "Which company hired {p}?", "Where will {p} be employed?"],
                "{o} interviewed at {x} but turned it down.",
            ),
        ],
    ),
    "travel": (
        "trip flight hotel vacation beach passport luggage airport tour museum abroad journey".split(),
        [
            (
                ["We booked flights to {x} for the summer.", "Summer plan is set: flying to {x}!"],
                ["Where did {p} book flights for the summer?", "Where is {p} going on holiday?", "What destination did {p} choose for the summer getaway?"],
                "{o} just came back from {x}.",
            ),
            (
                ["The hotel in {x} had the most amazing sea view.", "Our room in {x} looked right over the beach."],
                ["Which hotel had the sea view for {p}?", "Where did {p} stay with an ocean view?", "Which city had the accommodation by the water?"],
                "{o} hated the hotel in {x}.",
            ),
            (
                ["The airline lost my suitcase in {x}, what a mess.", "Lost luggage at the {x} airport, still waiting."],
                ["Where did {p} lose luggage?", "Where did {p}'s bags go missing?", "In which city did {p} have trouble with baggage?"],
                "{o} missed a connection in {x}.",
            ),
        ],
    ),
    "food": (
        "cooking recipe dinner kitchen baking oven restaurant spicy vegetarian lunch bread chef".split(),
        [
            (
                ["I've been baking {x} every weekend.", "Weekend ritual now: fresh {x} from my oven."],
                ["What has {p} been baking every weekend?", "What does {p} make on Saturdays and Sundays?", "What has {p} been making at home lately?"],
                "{o} tried baking {x} and burned it.",
            ),
            (
                ["Turns out I'm allergic to {x}, no more of that for me.", "The test came back: {x} allergy."],
                ["What is {p} allergic to?", "What can {p} no longer eat?", "What did {p} find out they react badly to?"],
                "{o} is allergic to {x} too, funny enough.",
            ),
            (
                ["Our favourite place to eat is {x}, the chef is brilliant.", "We keep going back to {x}, best food in town."],
                ["What is {p}'s favourite place to eat?", "Which restaurant does {p} love?", "Where does {p} like to dine out?"],
                "{o} recommended {x} but it was closed.",
            ),
        ],
    ),
    "health": (
        "doctor gym running workout knee injury yoga sleep diet marathon stretch fitness".split(),
        [
            (
                ["Signed up for the {x} marathon in spring!", "I'm running the {x} marathon, registration done."],
                ["Which marathon is {p} running?", "Which race did {p} enter?", "What long-distance run is {p} training for?"],
                "{o} ran the {x} marathon last year.",
            ),
            (
                ["Doctor says my {x} needs a month of rest.", "Hurt my {x}, no exercise for four weeks."],
                ["What does {p} need to rest, says the doctor?", "Which part of {p}'s body was injured?", "What did the physician tell {p} to rest?"],
                "{o} had surgery on the {x}.",
            ),
            (
                ["Doing yoga at {x} three times a week.", "Joined the yoga classes at {x}."],
                ["Where does {p} do yoga?", "Where does {p} practise stretching classes?", "Which studio does {p} attend?"],
                "{o} teaches pilates at {x}.",
            ),
        ],
    ),
    "family": (
        "sister brother parents mom dad kids birthday wedding cousin grandma visit family".split(),
        [
            (
                ["My sister {x} is getting married in June!", "{x}, my sister, is having her wedding this June."],
                ["Which sister of {p} is getting married?", "Which sibling of {p} is tying the knot?", "Whose marriage is {p} attending in June?"],
                "{o}'s sister {x} got divorced.",
            ),
            (
                ["Mom turns {x} next week, planning a party.", "Big birthday for mom soon, she'll be {x}."],
                ["What age does {p}'s mom turn?", "How old will {p}'s mother be?", "What age is {p}'s mum celebrating?"],
                "{o}'s dad just turned {x}.",
            ),
            (
                ["The kids start at {x} school in the fall.", "We enrolled the children at {x}."],
                ["Which school will {p}'s kids start at?", "Where will {p}'s children study?", "Which school did {p} pick for the little ones?"],
                "{o}'s son goes to {x}.",
            ),
        ],
    ),
    "music": (
        "guitar piano concert band song lessons practice album singer chords drums playlist".split(),
        [
            (
                ["I've started {x} lessons on Tuesdays.", "Tuesday evenings are for my {x} teacher now."],
                ["What lessons does {p} take on Tuesdays?", "What instrument is {p} learning?", "What does {p} study every week with a tutor?"],
                "{o} gave up {x} after a month.",
            ),
            (
                ["Got tickets to see {x} live!", "We're going to the {x} show, tickets bought."],
                ["Who did {p} get tickets to see live?", "Which band is {p} going to watch perform?", "Whose gig did {p} get seats for?"],
                "{o} saw {x} live years ago.",
            ),
            (
                ["Practising the chords of {x} every night.", "I can almost play {x} all the way through."],
                ["Which song's chords is {p} practising?", "Which tune has {p} been rehearsing?", "What piece is {p} trying to master?"],
                "{o} keeps humming {x}.",
            ),
        ],
    ),
    "home": (
        "apartment house rent move garden furniture neighbours kitchen paint sofa lease repairs".split(),
        [
            (
                ["We're moving to a house in {x} next month.", "Signed for a place in {x}, we move soon."],
                ["Where is {p} moving to?", "Where is {p} relocating?", "What neighbourhood will {p} live in?"],
                "{o} moved out of {x}.",
            ),
            (
                ["Painted the living room {x} over the weekend.", "The lounge is {x} now, painted it myself."],
                ["What colour did {p} paint the living room?", "What colour are {p}'s walls now?", "How did {p} redecorate the living room?"],
                "{o} painted their bedroom {x}.",
            ),
            (
                ["The landlord raised our rent to {x}.", "Rent goes up to {x} next month, ugh."],
                ["How much did the landlord raise {p}'s rent to?", "How much does {p} pay for housing now?", "What is {p}'s new monthly cost for the flat?"],
                "{o} pays {x} for a smaller place.",
            ),
        ],
    ),
}
DETAILS = (
    "Biscuit Pepper Luna Oslo Lisbon Kyoto Denver Acme Globex Initech sourdough croissants peanuts shellfish "
    "Boston Berlin Chicago knee ankle shoulder Maple Harbor Clara Nora Sofia sixty seventy Riverside Oakwood "
    "violin cello ukulele Coldplay Radiohead Hallelujah Wonderwall Brighton Leeds teal olive 1800 2100 lead "
    "principal senior Friday March Sunrise Bamboo Lotus Northside Toronto Madrid Vienna Milo Rocky Daisy "
    "gluten soy focaccia bagels Zenith Hooli Vandelay wrist hip drums flute harp Adele Queen Imagine Yesterday"
).split()
PEOPLE = "Ann Ben Cara Dev Eli Fay Gus Hana Ivo Jun Kim Lea Max Noor Omar Pia".split()
OTHERS = "Tom Rita Sam Zoe Luis Mia Raj Ola".split()
CHAT = [
    "Yeah, {a} and {b} have been on my mind all week.",
    "I was telling a friend about the {a}, it reminded me of the {b}.",
    "Not much new, just the usual {a} stuff and some {b}.",
    "Any tips on {a}? The {b} part is the hard one for me.",
    "Honestly the {a} was fine but the {b} took forever.",
    "That sounds great! How is the {a} going, and the {b}?",
    "Ha, that {a} story again. Did you sort out the {b} in the end?",
    "Love that. I should really think more about {a} myself.",
    "Oh no, sorry to hear that. Hope the {a} gets better soon.",
    "Haha, same here. Busy week, lots of {a} and not enough sleep.",
    "I saw something about {a} online and thought of you.",
    "Thanks for asking! Things are good, a bit tired though.",
    "What are your plans for the weekend? Anything with {a}?",
    "Did I tell you about the {a}? Long story, later maybe.",
]
PROMPTS = [
    "So how is the {a} going these days?",
    "Anything new with the {a}? Last time you mentioned the {b}.",
    "What happened with the {a} in the end?",
    "How are things on the {a} front? And the {b}?",
]
UPDATE = "Change of plans: {what} is now {x} instead."
MONTHS = "January February March April May June July August September October November December".split()


@dataclass
class Turn:
    id: str
    session: int
    speaker: str
    text: str
    time: dt.datetime


@dataclass
class Question:
    text: str
    evidence: list[str]  # ids of the turns that answer it
    kind: str  # single | multi | temporal | updated


@dataclass
class Conversation:
    speakers: tuple[str, str]
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def generate(
    conversations: int = 10, sessions: int = 20, turns: int = 20, seed: int = 11
) -> list[Conversation]:
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 5, 18, 0, tzinfo=dt.UTC)
    out = []
    for c in range(conversations):
        a, b = rng.sample(PEOPLE, 2)
        conv = Conversation((a, b))
        told: list[tuple[str, str, int, str, str]] = []  # (turn id, speaker, session, topic, question)
        used: set[tuple[str, int, str]] = set()  # (topic, fact, speaker): each told once
        day = start + dt.timedelta(days=rng.randrange(10))
        for s in range(sessions):
            day += dt.timedelta(days=rng.randrange(7, 21))
            topics = rng.sample(sorted(TOPICS), 3)
            count = turns + rng.randrange(-4, 5)
            follow: str | None = None  # the topic the other one reacts to in the next turn
            chat: set[str] = set()  # this session's small-talk turns
            for t in range(count):
                speaker = (a, b)[t % 2]
                tid = f"c{c}s{s}t{t}"
                moment = day + dt.timedelta(minutes=2 * t)
                if follow is not None:  # the other one reacts, with the topic's words
                    vocab = TOPICS[follow][0]
                    text = rng.choice(CHAT).format(a=rng.choice(vocab), b=rng.choice(vocab))
                    conv.turns.append(Turn(tid, s, speaker, text, moment))
                    follow = None
                    continue
                topic = topics[0] if rng.random() < 0.5 else rng.choice(topics)
                vocab, facts = TOPICS[topic]
                roll = rng.random()
                fresh = [n for n in range(len(facts)) if (topic, n, speaker) not in used]
                if fresh and roll < 0.16:
                    n = rng.choice(fresh)
                    used.add((topic, n, speaker))
                    says, asks, _ = facts[n]
                    detail = rng.choice(DETAILS)
                    text = rng.choice(says).format(x=detail)
                    # Seven questions in ten reuse a word of the fact; the others only paraphrase it.
                    ask = asks[0] if rng.random() < 0.7 else rng.choice(asks[1:])
                    told.append((tid, speaker, s, topic, ask.format(p=speaker)))
                    if rng.random() < 0.5:
                        follow = topic
                    before = conv.turns[-1] if conv.turns else None
                    if before is not None and before.id in chat and rng.random() < 0.3:
                        # the other one asked about it first
                        before.text = rng.choice(PROMPTS).format(a=rng.choice(vocab), b=rng.choice(vocab))
                elif roll < 0.26:  # a distractor: the same kind of fact about someone else
                    _, _, other = rng.choice(facts)
                    text = other.format(o=rng.choice(OTHERS), x=rng.choice(DETAILS))
                else:
                    mix = vocab if rng.random() < 0.7 else TOPICS[rng.choice(sorted(TOPICS))][0]
                    text = rng.choice(CHAT).format(a=rng.choice(mix), b=rng.choice(vocab))
                    if rng.random() < 0.4:
                        text += " " + rng.choice(CHAT).format(a=rng.choice(vocab), b=rng.choice(mix))
                    chat.add(tid)
                conv.turns.append(Turn(tid, s, speaker, text, moment))
        by_id = {t.id: t for t in conv.turns}
        for tid, speaker, s, topic, question in told:
            kind = "single"
            when = by_id[tid].time
            if rng.random() < 0.15:
                kind = "temporal"
                question = rng.choice(
                    [
                        f"When did {speaker} mention this: " + question[0].lower() + question[1:],
                        question.rstrip("?") + f" (something {speaker} said in {MONTHS[when.month - 1]})?",
                    ]
                )
            conv.questions.append(Question(question, [tid], kind))
        # Multi-hop: two facts of one speaker from different sessions, asked together.
        pairs: set[tuple[str, str]] = set()
        for _ in range(len(told) // 5):
            one, two = rng.sample(told, 2)
            if one[1] != two[1] or one[2] == two[2] or (one[0], two[0]) in pairs:
                continue
            pairs.add((one[0], two[0]))
            q1, q2 = one[4].rstrip("?"), two[4]
            conv.questions.append(Question(f"{q1}, and {q2[0].lower()}{q2[1:]}", [one[0], two[0]], "multi"))
        evidence = {tid for tid, *_ in told}
        # Updates: a later session changes a fact; the question asks for the current state.
        for tid, speaker, s, topic, question in rng.sample(told, len(told) // 8):
            later = [
                t for t in conv.turns if t.session > s and t.speaker == speaker and t.id not in evidence
            ]
            if not later:
                continue
            turn = rng.choice(later)
            turn.text = UPDATE.format(what=f"the {rng.choice(TOPICS[topic][0])} thing", x=rng.choice(DETAILS))
            turn.text += " " + rng.choice(CHAT).format(a=rng.choice(TOPICS[topic][0]), b=topic)
            evidence.add(turn.id)
            conv.questions.append(Question("What is the latest on this: " + question, [turn.id], "updated"))
        out.append(conv)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for conv in generate(args.conversations, sessions=3, seed=args.seed):
        for turn in conv.turns:
            print(f"{turn.id} {turn.time:%Y-%m-%d} {turn.speaker}: {turn.text}")
        for q in conv.questions:
            print(f"Q ({q.kind}): {q.text} -> {', '.join(q.evidence)}")


if __name__ == "__main__":
    main()
