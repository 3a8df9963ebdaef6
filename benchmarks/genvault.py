"""Seeded synthetic vault generator for mdstore benchmarks and tests.

    python benchmarks/genvault.py OUT_DIR --notes 10000 --seed 42

writes a vault of Obsidian-style notes (frontmatter, headings, wikilinks, tags, tasks, inline
fields, block ids, code blocks with decoys, image attachments) into OUT_DIR, and a ground-truth
manifest as JSON next to it (``OUT_DIR.manifest.json`` unless ``--manifest`` says otherwise), so
that tests can compare what the indexer found with what was written.

The output depends only on ``notes`` and ``seed``: the same pair gives byte-identical files and
manifest. Standard library only, so it runs before the project is installed.

Words are drawn from an embedded English vocabulary (a few thousand words: function words plus
nouns, verbs and adjectives with their inflections) with Zipf-like frequencies, so that TF-IDF and
full-text search see realistic term statistics. About 2% of wikilinks are broken on purpose.

Manifest: ``{"seed", "stats", "folders", "attachments", "notes": [...]}``, one entry per note
sorted by path, with what a correct parser must find: ``title`` (frontmatter title > first H1 >
file name), ``aliases``, ``tags`` (normalised: lower case, no ``#``, frontmatter and inline),
counts ``wikilinks``/``embeds``/``markdown_links``/``urls``/``broken``, ``links`` as
``[kind, target as written, anchor, alias, resolved vault path or null]``, ``headings``,
``block_ids``, ``tasks``/``tasks_done``, ``task_fields`` (``[due:: ...]`` inside tasks),
``fields`` (keys of other inline fields) and ``prose_words`` (words of generated prose; a parser's
word count also counts link text and code). Nothing inside code blocks counts: the ``#notatag``
and ``[[not-a-link]]`` there are decoys, as are ``issue #123`` (numbers are not tags) and URL
fragments.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import posixpath
import random
import struct
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

__all__ = ["GenStats", "generate", "vocabulary", "TAG_POOL"]

MANIFEST_VERSION = 1

# Function words in rough frequency order: they take the top ranks of the Zipf distribution.
_STOPWORDS = """the of and to a in is that it for was on with as be by at this are from or have an
not but which they you we all were their been has one more can there when will would if so what
about up out them other into than then its only some these could time also two may first any like
now over such our most after even new because many how where those before should through much well
very just each between both under while another same few must never still here again against
without during since however every might although though whether upon across around toward among
within whose rather quite almost often perhaps later once already""".split()

_NOUNS = """account action activity address advice age agency agreement air amount analysis angle
animal answer apple approach area argument arm army art article aspect attempt attention audience
author balance ball band bank base basis basket battle beach bear beauty bed bell bench benefit
bicycle bill bird birth blade block blood board boat body bone book border bottle bottom box brain
branch bread breath brick bridge brother budget building bus button cabin cable cake camera camp
canal candle capital car card care career carpet case castle cat cause ceiling cell center century
chain chair chance channel chapter character charge chart check cheese chest chicken child choice
church circle citizen city claim class clay client climate clock cloud club coast coat code coffee
coin collar college color column comfort comment committee community company comparison
compass concept concert condition conference connection context contract control conversation
copper corner cost cotton council country courage course court cousin cover crane cream credit
crew crop crowd crystal culture cup curtain curve customer cycle damage dance danger data date
daughter day deal debate decade decision degree delivery demand department depth desert design
desk detail device diagram diamond dinner direction director dirt discovery disease distance
district doctor document dog door doubt draft dragon drawer dream dress drink driver drop drum dust
duty eagle ear earth east economy edge editor education effect effort egg election element energy
engine entry environment equipment error estate event evidence exam example exchange exercise
experience expert eye face fact factor factory family farm father fault feather feature feedback
fence festival fiber field figure file film finger fire fish flag flame flight floor flower focus
fog food foot forest fork form fortune fountain frame freedom friend fruit fuel function fund
future galaxy game garage garden gate gear gift glass glove goal gold government grain grass
gravity ground group growth guard guest guide guitar habit hair hall hammer hand harbor harvest hat
head health heart heat height helmet highway hill history hole holiday home honey hook hope horizon
horse hospital host hotel hour house idea image impact income index industry information insect
instance instrument interest interview island issue item jacket journal journey judge juice key
kettle king kitchen knee knife knowledge label ladder lake lamp land language lantern laptop law
layer leader leaf league lecture ledger lemon lesson letter level library license light limit line
link lion list literature load loan location lock log loop machine magnet mail manager map marble
market marriage mask match material matter meadow meal measure meat medicine meeting member memory
message metal method middle milk mind minute mirror model moment money monitor month moon morning
mother motor mountain mouse mouth movie muscle museum music nail name nation nature neck needle
network news night noise north note number object ocean office oil onion opinion orange orbit order
organ outcome oven owner package page pain paint pair palace panel paper parent park parrot part
partner party passage path patient pattern payment peace pen pencil people pepper period person
phase phone photo piano picture piece pilot pipe pitch place plan plane planet plant plate
platform player pocket poem poet point policy pond pool population port position pot potato power
practice presence president pressure price pride prince principle printer priority problem process
product profile program progress project promise property proposal protein purpose puzzle quality
quarter queen question queue rabbit radio rail rain range rate ratio reader reason recipe record
region relation release report request research resource response result review rhythm rice ring
river road robot rock role roof room root rope rose route rule salt sample sand satellite scale
scene schedule school science screen sea season seat secret section seed sense sentence series
server session shadow shape share sheep shelf shell shelter ship shirt shoe shop shore signal
silver sister site size skill skin sky sleep slope smoke snake snow society software soil soldier
solution song sound soup source south space speaker speech speed spider spirit spoon spring square
stage stair standard star state station statue steam steel stem step stick stock stone store storm
story stove strategy stream street strength string structure student studio style subject success
sugar suit summer sun supply surface survey sweater symbol system table tail task taste tax tea
teacher team technology telescope temple tent term test text theory thread threshold throat
thunder ticket tide timber title tomato tongue tool tooth topic tower town track trade traffic
trail train transport tree trend trial trick trip truck trust truth tunnel turtle type umbrella
uncle union unit universe valley value van vehicle version vessel video view village violin voice
volume wagon wall war warning watch water wave wealth weather web wedding week weight west whale
wheat wheel window wing winter wire wisdom wolf wood wool word work world worm writer yard year
youth zone café façade résumé jalapeño piñata""".split()

_VERBS = """accept achieve add adjust admire adopt affect agree allow analyze announce answer appear
apply argue arrange arrive ask assign assume attach attack attend avoid bake balance bend bind
blend boil borrow bounce build burn calculate call cancel capture carry catch celebrate change
charge chase check choose claim clean clear climb close collect combine compare compile complain
complete compose compute confirm connect consider construct consult contain continue convert cook
copy correct count cover crash create cross cut deliver depend deploy describe deserve design
destroy detect develop differ discover discuss divide draft drift earn edit embed enable encode
end enjoy enter escape estimate evaluate examine exist expand expect explain explore export extend
fail fetch fill filter find finish fix fold follow forget form gather generate grow guess handle
happen help hide hint hold hope hunt identify ignore imagine import improve include increase index
inform inspect install intend invent invite join jump keep kick kill knock land last launch learn
leave lend lift limit link listen load locate lock look manage mark match measure mention merge
migrate mix monitor move name need note notice observe obtain offer open order organize own pack
paint parse pass pause perform pick plan plant play point polish pour practice prefer prepare
present preserve press prevent print produce promise protect prove publish pull punch push query
raise reach read realize receive record reduce refer reflect refresh release remain remember
remove render repair repeat replace reply report request require rescue resolve rest restore
return reveal review ride ring rise roll rotate rule run sail save scan search seem select sell
send serve settle share shift shine show sign sing sink sketch skip sleep slide smile solve sort
sound speak spend split spread start stay steer stop store stretch study submit suggest supply
support suppose surround survive switch sync talk teach tend test thank think throw touch trace
track train transfer travel treat trust try turn type understand unite update upload use validate
visit vote wait walk wander want warn wash watch wave weigh welcome win wish wonder work worry
wrap write yield""".split()

_ADJECTIVES = """able active actual ancient angry annual anxious available aware bad basic beautiful
bitter black blank blue bold brave brief bright broad broken brown busy calm careful central cheap
chief civil classic clean clear clever close cold common complex correct crazy critical cruel
curious current dark dead deep dense direct dirty distant double dry dull eager early easy
electric empty equal exact extreme fair familiar famous fancy fast fat final fine firm flat fluent
formal former fresh friendly full funny general gentle giant glad global golden good grand great
green grey gross guilty happy hard heavy helpful hidden high hollow honest hot huge human humble
ideal idle immense inner internal keen kind large late lazy lean legal light little lively local
logical lonely long loose loud lovely low loyal lucky main major mental mild minor mixed modern
modest moral narrow nasty native natural neat nervous neutral nice noble normal odd open orange
original outer pale partial patient perfect plain pleasant polite poor popular positive precise
pretty primary private proper proud public pure purple quick quiet rapid rare raw ready real recent
red regular relevant remote rich right rigid robust rough round royal rude rural sacred sad safe
scared secure serious severe shallow sharp short shy silent silly simple single slim slow small
smart smooth soft solid sorry sour spare special stable steady steep sticky stiff strange strict
strong sudden sunny super sweet swift tall tender thick thin tidy tight tiny total tough tropical
typical ugly unique upper urban useful usual vague valid vast violent visible vital vivid warm
weak wealthy weird wet white whole wide wild wise wooden worried yellow young naïve über""".split()

# YAML 1.1 reads these as booleans/null when unquoted; keep them out of frontmatter values.
_YAML_SPECIAL = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "none"}


def _inflect(word: str, suffix: str) -> str:
    if suffix == "s":
        if word.endswith(("s", "x", "ch", "sh")):
            return word + "es"
        if word.endswith("y") and word[-2:-1] not in "aeiou":
            return word[:-1] + "ies"
        return word + "s"
    if suffix in ("ing", "ed", "er") and word.endswith("e"):
        return word[:-1] + "ing" if suffix == "ing" else word + suffix[1:]
    if suffix in ("ed", "er") and word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "i" + suffix
    if suffix == "ly":
        if word.endswith("y"):
            return word[:-1] + "ily"
        if word.endswith("le"):
            return word[:-1] + "y"
        return word + "ly"
    if suffix == "ness" and word.endswith("y"):
        return word[:-1] + "iness"
    return word + suffix


def _build_vocabulary() -> tuple[list[str], list[str]]:
    """(all words in Zipf rank order, content words safe as YAML scalars). Independent of the seed."""
    bases = list(dict.fromkeys(_NOUNS + _VERBS + _ADJECTIVES))
    derived: list[str] = []
    for noun in _NOUNS:
        derived.append(_inflect(noun, "s"))
    for verb in _VERBS:
        derived.extend(_inflect(verb, s) for s in ("s", "ing", "ed", "er"))
    for adjective in _ADJECTIVES:
        derived.extend(_inflect(adjective, s) for s in ("ly", "ness"))
    seen = set(_STOPWORDS) | set(bases)
    derived = [w for w in dict.fromkeys(derived) if w not in seen]
    shuffler = random.Random(0x5EED)
    shuffler.shuffle(bases)
    shuffler.shuffle(derived)
    ranked = _STOPWORDS + bases + derived
    content = [w for w in bases if w.isascii() and w not in _YAML_SPECIAL]
    return ranked, content


_RANKED, _CONTENT = _build_vocabulary()


def vocabulary() -> list[str]:
    """The words notes are made of, most frequent first."""
    return list(_RANKED)


def _zipf_cum_weights(n: int, s: float, offset: int = 0) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights 1/(rank+offset)^s for ranks 1..n."""
    return list(itertools.accumulate(1.0 / ((rank + offset) ** s) for rank in range(1, n + 1)))


def _mixture_cum_weights() -> list[float]:
    """Word weights over ``_RANKED``: function words (Zipf) get 40% of tokens, content words 60%.

    Content words follow Zipf-Mandelbrot with an offset that continues the ranks after the
    function words, so no content word is nearly as common as "the".
    """
    stop = _zipf_cum_weights(len(_STOPWORDS), 1.0)
    prose = _zipf_cum_weights(len(_RANKED) - len(_STOPWORDS), 1.0, offset=60)
    stop_scale, prose_scale = 0.4 / stop[-1], 0.6 / prose[-1]
    return [w * stop_scale for w in stop] + [0.4 + w * prose_scale for w in prose]


_WORD_WEIGHTS = _mixture_cum_weights()
_CONTENT_WEIGHTS = _zipf_cum_weights(len(_CONTENT), 1.0, offset=20)

_AREAS = ["Areas", "Projects", "Research", "Reference", "Archive", "Journal"]
_STATUSES = ["draft", "active", "paused", "review", "done", "archived"]
_PHASES = ["discovery", "design", "build", "launch", "maintenance"]
_FIELD_KEYS = ["source", "effort", "mood", "reviewed", "owner", "energy", "location", "score"]
_LANGS = ["python", "sql", "bash", "js", ""]


def _tag_pool() -> list[str]:
    """Tags as written (without '#'): plain, hyphenated, with digits, and nested ``area/sub``."""
    rng = random.Random(0x7A65)
    words = [w for w in _CONTENT[:400] if w.isascii()]
    plain = words[:80]
    tags = list(plain)
    tags += [f"{a}-{b}" for a, b in zip(words[80:95], words[95:110], strict=True)]
    tags += ["to-read", "deep_work", "q3-review", "2026-goals", "inbox", "meeting", "idea", "todo"]
    for parent in words[110:125]:
        for child in rng.sample(words[125:300], 3):
            tags.append(f"{parent}/{child}")
    tags += ["area/health", "area/work", "area/home", "project/active", "project/someday"]
    return list(dict.fromkeys(tags))


TAG_POOL = _tag_pool()
_TAG_WEIGHTS = _zipf_cum_weights(len(TAG_POOL), 1.0)


@dataclass(frozen=True)
class GenStats:
    """What one ``generate`` call wrote."""

    notes: int
    folders: int
    attachments: int
    words: int
    bytes: int
    wikilinks: int
    embeds: int
    markdown_links: int
    urls: int
    broken_links: int
    tags: int  # distinct normalised tags across the vault
    tasks: int
    seconds: float = 0.0
    manifest: str = ""


@dataclass
class _Plan:
    path: str  # vault-relative with ".md"
    name: str
    folder: str
    h1: str | None
    headings: list[tuple[int, str]]
    block_ids: list[str]
    aliases: list[str]
    words: int
    links: list[list[object]] = field(default_factory=list)  # [kind, target, anchor, alias, resolved]


def _title_words(rng: random.Random, lo: int, hi: int) -> list[str]:
    return rng.choices(_CONTENT, cum_weights=_CONTENT_WEIGHTS, k=rng.randint(lo, hi))


def _folders(rng: random.Random) -> list[str]:
    folders: list[str] = []
    used: set[str] = set()

    def fresh() -> str:
        while True:
            name = rng.choice(_CONTENT[:600]).capitalize()
            if rng.random() < 0.3:
                name += " " + rng.choice(_CONTENT[:600])
            if name.lower() not in used:
                used.add(name.lower())
                return name

    for area in _AREAS:
        folders.append(area)
        if area == "Journal":
            for year in ("2024", "2025", "2026"):
                folders.append(f"{area}/{year}")
                folders.extend(f"{area}/{year}/{month:02d}" for month in (1, 4, 7, 10))
            continue
        for _ in range(4):
            sub = f"{area}/{fresh()}"
            folders.append(sub)
            if rng.random() < 0.5:
                folders.extend(f"{sub}/{fresh()}" for _ in range(rng.randint(1, 2)))
    return folders


def _plan(rng: random.Random, count: int, folders: list[str]) -> list[_Plan]:
    used: set[str] = {"index"}
    plans: list[_Plan] = []
    # Index notes: one at the root and one per area, so "[[Index]]" resolves to the shortest path.
    fixed = [("", "Index")] + [(area, "Index") for area in _AREAS if area != "Journal"]
    note_folders = [f for f in folders if f.count("/") >= 1] + [""] + _AREAS
    for i in range(count):
        if i < len(fixed) and count >= 20:
            folder, name = fixed[i]
        else:
            folder = rng.choice(note_folders)
            if folder.startswith("Journal/"):
                base = f"{folder[8:12]}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                name = base
                n = 2
                while name.lower() in used:
                    name = f"{base} {n}"
                    n += 1
            else:
                while True:
                    name = " ".join(_title_words(rng, 1, 4)).capitalize()
                    if rng.random() < 0.15:
                        name += f" {rng.randint(2, 999)}"
                    if name.lower() not in used:
                        break
            used.add(name.lower())
        path = f"{folder}/{name}.md" if folder else f"{name}.md"
        headings: list[tuple[int, str]] = []
        seen_headings: set[str] = set()
        for _ in range(rng.randint(1, 6)):
            text = " ".join(_title_words(rng, 1, 3)).capitalize()
            if text.lower() not in seen_headings:
                seen_headings.add(text.lower())
                headings.append((rng.choice((2, 2, 3)) if headings else 2, text))
        block_ids = [
            "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2)))
        ]
        words = int(min(900, max(50, rng.lognormvariate(math.log(270), 0.55))))
        h1 = name if rng.random() < 0.4 else None
        plans.append(_Plan(path, name, folder, h1, headings, block_ids, [], words))
    aliases_used: set[str] = set()
    for plan in plans:
        if rng.random() < 0.12:
            for _ in range(rng.randint(1, 2)):
                alias = " ".join(_title_words(rng, 2, 3)) + " " + rng.choice(("notes", "log", "ref", "memo"))
                if alias.lower() not in used and alias.lower() not in aliases_used:
                    aliases_used.add(alias.lower())
                    plan.aliases.append(alias)
    return plans


def _png(rng: random.Random, size: int) -> bytes:
    """A valid small RGB PNG of one random colour."""
    r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    raw = b"".join(b"\x00" + bytes((r, g, b)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _date(rng: random.Random, start_year: int = 2023, years: int = 4) -> str:
    return f"{start_year + rng.randrange(years)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _yaml_str(text: str) -> str:
    """``text`` as a YAML scalar that loads back as this string (quoted only when it must be)."""
    special = text.lower() in _YAML_SPECIAL or text[:1].isdigit()  # dates and numbers stay strings
    if special or any(c in text for c in ":#{}[],&*!|>'\"%@`"):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _frontmatter(rng: random.Random, plan: _Plan, tags: list[str]) -> str:
    lines = ["---"]
    minimal = rng.random() < 0.05
    if not minimal and rng.random() < 0.4:
        title = plan.name if rng.random() < 0.7 else f"{plan.name}: {' '.join(_title_words(rng, 1, 3))}"
        lines.append(f"title: {_yaml_str(title)}")
    if plan.aliases:
        lines.append("aliases:")
        lines.extend(f"  - {_yaml_str(a)}" for a in plan.aliases)
    if tags:
        style = rng.random()
        if style < 0.45:
            lines.append(f"tags: [{', '.join(tags)}]")
        elif style < 0.8:
            lines.append("tags:")
            lines.extend(f"  - {t}" for t in tags)
        elif style < 0.9:
            lines.append(f'tags: "{", ".join("#" + t for t in tags)}"')
        else:
            lines.append(f"tags: {' '.join(tags)}")
    lines.append(f"created: {_date(rng, 2022, 4)}")
    if minimal:
        lines.append("---")
        return "\n".join(lines) + "\n"
    lines.append(f"status: {rng.choice(_STATUSES)}")
    lines.append(f"priority: {rng.randint(1, 5)}")
    if rng.random() < 0.5:
        lines.append(f"due: {_date(rng, 2025, 3)}")
    if rng.random() < 0.2:
        lines.append(f"updated: {_date(rng, 2025, 2)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00")
    lines.append(f"rating: {rng.uniform(0, 5):.1f}")
    lines.append(f"{rng.choice(('pinned', 'published', 'private'))}: {rng.choice(('true', 'false'))}")
    if rng.random() < 0.6:
        lines.append("project:")
        lines.append(f"  name: {' '.join(_title_words(rng, 1, 2)).capitalize()}")
        lines.append(f"  phase: {rng.choice(_PHASES)}")
    if rng.random() < 0.5:
        lines.append(f"keywords: [{', '.join(_title_words(rng, 2, 4))}]")
    if rng.random() < 0.1:
        lines.append("# reviewed by hand, keep")
    if rng.random() < 0.1:
        lines.append(f'source: "https://example.org/{rng.choice(_CONTENT)}?id={rng.randrange(10**4)}"')
    if rng.random() < 0.05:
        lines.append("reviewer:")
    lines.append("---")
    return "\n".join(lines) + "\n"


class _Generator:
    def __init__(self, rng: random.Random, plans: list[_Plan], attachments: list[str]):
        self.rng = rng
        self.plans = plans
        self.attachments = attachments
        self.by_popularity = list(range(len(plans)))
        rng.shuffle(self.by_popularity)
        self.popularity_weights = _zipf_cum_weights(len(plans), 0.75)
        self.names = {p.name.lower() for p in plans} | {a.lower() for p in plans for a in p.aliases}

    def words(self, n: int) -> list[str]:
        return self.rng.choices(_RANKED, cum_weights=_WORD_WEIGHTS, k=n)

    def target(self, me: int) -> _Plan:
        while True:
            i = self.rng.choices(self.by_popularity, cum_weights=self.popularity_weights)[0]
            if i != me:
                return self.plans[i]

    def wikilink(self, me: int, plan: _Plan) -> str:
        """One wikilink as written; records the expected link in ``plan.links``."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.02:
            while True:
                target = "Missing " + " ".join(_title_words(rng, 2, 3))
                if target.lower() not in self.names:
                    break
            plan.links.append(["wikilink", target, None, None, None])
            return f"[[{target}]]"
        other = self.target(me)
        name = other.name
        if other.name == "Index" and other.folder:
            written = other.path[:-3]  # several Index notes: use the path
        elif roll < 0.12:
            written = other.path if rng.random() < 0.5 else other.path[:-3]
        elif roll < 0.17:
            written = name.lower()
        elif roll < 0.20 and other.aliases:
            written = other.aliases[0]
        else:
            written = name
        anchor = alias = None
        roll = rng.random()
        if roll < 0.15:
            anchor = rng.choice(other.headings)[1]
        elif roll < 0.20 and other.block_ids:
            anchor = "^" + rng.choice(other.block_ids)
        if rng.random() < 0.2:
            alias = " ".join(_title_words(rng, 1, 3))
        plan.links.append(["wikilink", written, anchor, alias, other.path])
        return f"[[{written}{'#' + anchor if anchor else ''}{'|' + alias if alias else ''}]]"

    def markdown_link(self, me: int, plan: _Plan) -> str:
        other = self.target(me)
        rel = posixpath.relpath(other.path, plan.folder or ".")
        text = " ".join(_title_words(self.rng, 1, 3))
        plan.links.append(["markdown", rel, None, text, other.path])
        return f"[{text}]({quote(rel, safe='/')})"

    def url(self, plan: _Plan) -> str:
        word = self.rng.choice(_CONTENT)
        target = f"https://example.com/{word}/guide#{self.rng.choice(_CONTENT)}"
        plan.links.append(["url", target, None, word, None])
        return f"[{word}]({target})"

    def tag(self) -> str:
        tag = self.rng.choices(TAG_POOL, cum_weights=_TAG_WEIGHTS)[0]
        return tag.capitalize() if self.rng.random() < 0.05 else tag

    def note(self, me: int) -> tuple[str, dict[str, object]]:
        rng = self.rng
        plan = self.plans[me]
        fm_tags = list(dict.fromkeys(self.tag().lower() for _ in range(rng.randint(0, 4))))
        front = _frontmatter(rng, plan, fm_tags)
        inline_tags = [self.tag() for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4)))]
        inline: list[str] = [self.wikilink(me, plan) for _ in range(rng.randint(2, 8))]
        inline.append(self.markdown_link(me, plan))
        if rng.random() < 0.3:
            inline.append(self.url(plan))
        inline += ["#" + t for t in inline_tags]
        if rng.random() < 0.1:
            inline.append(f"issue #{rng.randint(1, 999)}")  # decoy: pure numbers are not tags
        fields: list[str] = []
        if rng.random() < 0.1:
            key = rng.choice(_FIELD_KEYS)
            fields.append(key)
            inline.append(
                f"[{key}:: {rng.randint(1, 10)}]"
                if rng.random() < 0.5
                else f"({key}:: {rng.choice(_CONTENT)})"
            )
        rng.shuffle(inline)

        paragraphs = max(1, plan.words // 60)
        sections: list[list[str]] = [[] for _ in range(len(plan.headings) + 1)]
        remaining = plan.words
        for p in range(paragraphs):
            n = remaining // (paragraphs - p)
            remaining -= n
            sections[rng.randrange(len(sections))].append(self.paragraph(n, inline, p, paragraphs))
        block_ids = list(plan.block_ids)
        tasks = done = 0
        task_fields = 0
        out = [front]
        if plan.h1:
            out.append(f"# {plan.h1}\n\n")
        extras = ["tasks", "fields", "code", "embed"]
        rng.shuffle(extras)
        extra_at = {kind: rng.randrange(len(sections)) for kind in extras}
        for s, paras in enumerate(sections):
            if s:
                level, text = plan.headings[s - 1]
                out.append(f"{'#' * level} {text}\n\n")
            for para in paras:
                if block_ids and rng.random() < 0.5:
                    para += f" ^{block_ids.pop()}"
                out.append(para + "\n\n")
            for kind in extras:
                if extra_at[kind] != s:
                    continue
                if kind == "tasks" and rng.random() < 0.6:
                    for _ in range(rng.randint(1, 5)):
                        status = rng.choice(" x x  ")
                        tasks += 1
                        done += status == "x"
                        line = f"- [{status}] {' '.join(self.words(rng.randint(3, 9)))}"
                        if rng.random() < 0.4:
                            line += f" [due:: {_date(rng, 2026, 1)}]"
                            task_fields += 1
                        out.append(line + "\n")
                    out.append("\n")
                elif kind == "fields" and rng.random() < 0.4:
                    for key in rng.sample(_FIELD_KEYS, rng.randint(1, 3)):
                        value = rng.choice(
                            (
                                str(rng.randint(1, 10)),
                                _date(rng, 2025, 2),
                                rng.choice(("true", "false")),
                                " ".join(_title_words(rng, 1, 3)),
                            )
                        )
                        fields.append(key)
                        out.append(f"{key}:: {value}\n")
                    out.append("\n")
                elif kind == "code" and rng.random() < 0.25:
                    fence = rng.choice(("```", "```", "~~~"))
                    lang = rng.choice(_LANGS)
                    out.append(
                        f"{fence}{lang}\n# {rng.choice(_CONTENT)} #notatag\n"
                        f'ref = "[[not-a-link]]"  # {" ".join(self.words(4))}\n{fence}\n\n'
                    )
                elif kind == "embed" and self.attachments and rng.random() < 0.15:
                    image = rng.choice(self.attachments)
                    plan.links.append(["embed", posixpath.basename(image), None, None, image])
                    out.append(f"![[{posixpath.basename(image)}]]\n\n")
        if block_ids:  # not placed yet: give them their own paragraph so block refs resolve
            out.append(" ".join(self.words(8)).capitalize() + f". ^{block_ids.pop()}\n")
            while block_ids:
                out.append(f"{' '.join(self.words(6)).capitalize()}. ^{block_ids.pop()}\n")
        text = "".join(out).rstrip("\n") + "\n"

        tags = sorted({t.lower() for t in fm_tags} | {t.lower() for t in inline_tags})
        kinds = [link[0] for link in plan.links]
        fm_title = None
        head = front.split("\n")
        for line in head:
            if line.startswith("title: "):
                fm_title = line[7:].strip('"')
        entry: dict[str, object] = {
            "path": plan.path,
            "title": fm_title or plan.h1 or plan.name,
            "aliases": plan.aliases,
            "tags": tags,
            "wikilinks": kinds.count("wikilink"),
            "embeds": kinds.count("embed"),
            "markdown_links": kinds.count("markdown"),
            "urls": kinds.count("url"),
            "broken": sum(1 for link in plan.links if link[0] == "wikilink" and link[4] is None),
            "links": plan.links,
            "headings": len(plan.headings) + (1 if plan.h1 else 0),
            "block_ids": sorted(plan.block_ids),
            "tasks": tasks,
            "tasks_done": done,
            "task_fields": task_fields,
            "fields": fields,
            "prose_words": plan.words,
        }
        return text, entry

    def paragraph(self, n: int, inline: list[str], index: int, total: int) -> str:
        rng = self.rng
        words = self.words(n)
        # Spread the inline items (links, tags) over the paragraphs, a share each.
        share = len(inline) // (total - index) if total - index else len(inline)
        items = [inline.pop() for _ in range(min(share, len(inline)))]
        sentences: list[str] = []
        i = 0
        while i < len(words):
            length = rng.randint(6, 20)
            chunk = words[i : i + length]
            i += length
            sentences.append(" ".join(chunk).capitalize() + ".")
        for item in items:
            at = rng.randrange(len(sentences))
            sentences[at] = sentences[at][:-1] + f" {item}."
        return " ".join(sentences)


def generate(out: Path, notes: int = 10000, seed: int = 42, manifest: Path | None = None) -> GenStats:
    """Write a synthetic vault of ``notes`` notes into ``out`` (created; must be empty or absent).

    The ground-truth manifest goes to ``manifest`` (default: ``<out>.manifest.json`` beside the
    vault, so it is not itself part of the vault).
    """
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    manifest = Path(manifest) if manifest else out.with_name(out.name + ".manifest.json")
    rng = random.Random(seed)
    folders = _folders(rng)
    plans = _plan(rng, notes, folders)
    attachments = [f"attachments/img-{i:04d}.png" for i in range(max(3, notes // 100))]
    gen = _Generator(rng, plans, attachments)

    out.mkdir(parents=True, exist_ok=True)
    for folder in folders + ["attachments"]:
        (out / folder).mkdir(parents=True, exist_ok=True)
    total_bytes = 0
    for rel in attachments:
        data = _png(rng, rng.choice((1, 4, 8, 16)))
        (out / rel).write_bytes(data)
        total_bytes += len(data)
    entries = []
    for i, plan in enumerate(plans):
        text, entry = gen.note(i)
        data = text.encode("utf-8")
        (out / plan.path).write_bytes(data)
        total_bytes += len(data)
        entries.append(entry)
    entries.sort(key=lambda e: str(e["path"]))

    def total(key: str) -> int:
        return sum(int(e[key]) for e in entries)  # type: ignore[call-overload]

    stats = GenStats(
        notes=notes,
        folders=len(folders) + 1,
        attachments=len(attachments),
        words=total("prose_words"),
        bytes=total_bytes,
        wikilinks=total("wikilinks"),
        embeds=total("embeds"),
        markdown_links=total("markdown_links"),
        urls=total("urls"),
        broken_links=total("broken"),
        tags=len({t for e in entries for t in e["tags"]}),  # type: ignore[attr-defined]
        tasks=total("tasks"),
    )
    document = {
        "generator": "mdstore benchmarks/genvault.py",
        "version": MANIFEST_VERSION,
        "seed": seed,
        "stats": {k: v for k, v in asdict(stats).items() if k not in ("seconds", "manifest")},
        "folders": sorted(folders + ["attachments"]),
        "attachments": attachments,
        "notes": entries,
    }
    manifest.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    seconds = time.perf_counter() - started
    return GenStats(**{**asdict(stats), "seconds": round(seconds, 3), "manifest": str(manifest)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must be empty or absent)")
    parser.add_argument("--notes", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--manifest", type=Path, default=None, help="default: OUT.manifest.json")
    args = parser.parse_args(argv)
    try:
        stats = generate(args.out, args.notes, args.seed, args.manifest)
    except FileExistsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(stats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
