"""Synthetic news corpus for the throughput bench: a static site of N articles.

Pages are 400-1,200 words of news prose composed from templates and word
lists with a seeded RNG, wrapped in heavy boilerplate (cookie banner, nav,
share buttons, newsletter box, related stories, footer, inline script and
style) by one of six outlet templates; some pages carry reader comments.
A share of the articles are defection reports with an explicit number of
defectors (and sometimes weapons) or conscription stories; a share are
near-duplicates: edited copies of another article on a different outlet.
Each outlet's articles are listed, newest first, in RSS or Atom feeds of 100
items. Links use the placeholder base ``BASE_PLACEHOLDER``, which
``newswatch.demo.server.StaticServer(base_placeholder=...)`` rewrites to its
own address when serving.

Output: ``DIR/site/`` (pages and ``feeds/``) and ``DIR/manifest.json`` with the
ground truth (per article: path, outlet, feed, topic, defectors, weapons,
duplicate_of).

    python bench/generate.py --articles 10000 --out /tmp/bench-corpus --seed 7
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional

BASE_PLACEHOLDER = "http://bench-site.invalid"
FEED_ITEMS = 100
MANIFEST_VERSION = 2
_START = datetime(2025, 2, 1, tzinfo=timezone.utc)
_SPAN_DAYS = 120

# ---------------------------------------------------------------- word lists

TOWNS = ("Yangon", "Mandalay", "Monywa", "Bago", "Pathein", "Mawlamyine", "Taunggyi", "Lashio", "Myitkyina",
         "Sittwe", "Hpa-an", "Magway", "Pakokku", "Shwebo", "Kale", "Hakha", "Loikaw", "Dawei", "Myeik",
         "Meiktila", "Pyay", "Hinthada", "Thaton", "Kyaukse", "Myingyan", "Bhamo", "Mogok", "Kyaukpyu")
TOWNSHIPS = ("Kani Township", "Yinmabin Township", "Pale Township", "Depayin Township", "Tabayin Township",
             "Gangaw Township", "Demoso Township", "Hpruso Township", "Pekon Township", "Mindat Township",
             "Kawlin Township", "Myaung Township", "Salin Township", "Ngazun Township", "Waingmaw Township",
             "Kyaukme Township", "Hsipaw Township", "Thantlang Township", "Matupi Township", "Tamu Township")
REGIONS = ("Sagaing Region", "Magway Region", "Mandalay Region", "Bago Region", "Karenni State", "Kachin State",
           "Chin State", "Shan State", "Kayin State", "Mon State", "Rakhine State", "Tanintharyi Region")
RES_ORGS = ("KNDF", "KIA", "KNLA", "TNLA", "PDF", "Arakan Army", "MNDAA", "Chinland Defense Force",
            "People's Defence Force")
SYLLABLES = ("Aung", "Kyaw", "Min", "Htet", "Zaw", "Thant", "Hla", "Myint", "Win", "Naing", "Soe", "Tun",
             "Lwin", "Oo", "Thein", "Maung", "Nyein", "Khin", "Su", "Phyu", "Ei", "Mon", "Thiri", "Wai", "Moe",
             "Nandar", "Pyae", "Sone", "Htay", "Yin", "Myo", "Thura", "Hnin", "Sandar", "Ye", "Paing")
HONORIFICS = ("U", "Daw", "Ko", "Ma", "Saw", "Nang", "Sai", "Naw")
ROLES = ("a rice trader", "a schoolteacher", "a township health officer", "a retired civil servant",
         "a market vendor", "a farmer", "a taxi driver", "a university lecturer", "a local aid worker",
         "a fisheries official", "a shop owner", "a nurse at the district hospital", "a community leader",
         "a ward elder", "an engineer", "a monk at a local monastery", "a journalist", "a bus operator")
EXPERTS = ("an economist based in <town>", "a researcher at a regional think tank", "a former trade official",
           "an analyst who follows the <sector> sector", "a consultant for several donor agencies")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
GOODS = ("rice", "cooking oil", "onions", "diesel", "petrol", "sugar", "medicine", "fertiliser", "cement",
         "chicken", "eggs", "beans", "salt", "charcoal", "mobile data")
SECTORS = ("garment", "tourism", "fisheries", "logistics", "banking", "farming", "construction", "telecoms",
           "jade", "rubber")
PLACES_PUBLIC = ("the central market", "the bus terminal", "the township hospital", "the river jetty",
                 "a village clinic", "the main pagoda", "the high school", "the power substation",
                 "the railway station", "the night market", "a monastery school", "the old bridge")
NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
             10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen",
             16: "sixteen", 17: "seventeen", 18: "eighteen", 19: "nineteen", 20: "twenty", 30: "thirty",
             40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}

# Templates: {a|b} picks one alternative, <slot> is filled by _SLOTS.
TOPICS: dict[str, tuple[str, ...]] = {
    "economy": (
        "{Prices of|The price of} <good> in <town> {rose|climbed|jumped} by <pct> percent <when>, <attrib>.",
        "Traders at <public> said a {sack|bag|tin} of <good> now {costs|sells for} <kyat> kyat, {up from|compared with} <kyat> kyat <ago>.",
        "The kyat {weakened|slipped|fell} {again|further} against the dollar <when>, {pushing up|driving up|lifting} the cost of imported <good>.",
        "{Many|Several|Some} <sector> firms in <town> have {cut|reduced|trimmed} {shifts|working hours|staff} {because of|amid|after} {power cuts|rising costs|falling orders}.",
        "{Exporters|Importers|Wholesalers} {complain|say} that {licences|permits|bank transfers} now take <few> weeks {to clear|to arrive|to process}.",
        "The <sector> sector {employs|supports} {about|roughly|more than} <thousands> workers in <region>, {by one estimate|according to industry figures|officials say}.",
        "{Households|Families|Residents} in <town> {say|told us} they now {spend|set aside} {more than half|nearly half|a third} of their income on food.",
        "{A|One} <good> {seller|dealer|broker} at <public> said {demand|business|trade} had {halved|slowed|dried up} since <month>.",
    ),
    "infrastructure": (
        "{Work on|Repairs to|Construction of} {the new road|the bridge|a water pipeline|the drainage canal} {near|outside|north of} <town> {resumed|stalled|slowed} <when>.",
        "Residents of <town> {have lived with|endure|report} {power cuts|blackouts|outages} of up to <few> hours a day {since|from} <month>.",
        "The {electricity|water|telecoms} {authority|department|operator} said {the repairs|the upgrade|the new line} would {cost|need} <kyat> kyat.",
        "{Trucks|Buses|Boats} {carrying|moving} <good> {wait|queue} for hours at {a checkpoint|the toll gate|the jetty} on the road to <town>.",
        "{Engineers|Officials|Contractors} {blamed|pointed to|cited} {the monsoon|heavy rain|a shortage of parts|fuel prices} for the {delay|slow progress|setback}.",
        "{A|The} {diesel generator|solar array|new transformer} {installed|set up|donated} at <public> {now powers|supplies|keeps running} {the wards|the pumps|the lights} at night.",
        "{Mobile|Internet} {service|coverage} in {parts of|much of|several wards of} <town> {was cut|went down|was restricted} <when>, {residents said|users reported|<attrib>}.",
    ),
    "health": (
        "{Doctors|Nurses|Health workers} in <town> {reported|recorded|counted} <hundreds> {cases of dengue|cases of diarrhoea|malaria cases} <when>.",
        "{The|A} {clinic|hospital|health centre} {near|beside|behind} <public> {is short of|has run low on|needs} {insulin|antibiotics|saline|vaccines}.",
        "{Volunteers|Aid groups|Charities} {ran|held|organised} a {free clinic|vaccination drive|health camp} in <township> that {saw|treated|reached} <hundreds> {patients|children|people}.",
        "{Medicine|Drug|Pharmacy} prices {have doubled|rose sharply|keep rising} in <town>, {said|according to} <person>.",
        "{Patients|Families} from {villages|wards} around <town> {travel|walk|ride} <few> hours to reach {the nearest|a working|the district} hospital.",
        "{The|A} {shortage|lack} of {doctors|trained midwives|nurses} {is worst|is most severe|hurts most} in {rural|remote|hill} {areas|villages|townships} of <region>.",
    ),
    "education": (
        "{Schools|Classes|Universities} in <town> {reopened|resumed|started again} <when> with {fewer|half the|far fewer} {pupils|students|teachers} than {before|last year|in <year>}.",
        "{Parents|Families|Guardians} {pay|spend|set aside} <kyat> kyat a month for {private tuition|school fees|textbooks and uniforms}.",
        "{Volunteer|Community|Monastery} teachers in <township> {run|hold|teach} classes in {a monastery|a rented house|the open air|a village hall}.",
        "{Exam|Matriculation|Entrance} results {released|published|announced} <when> showed a pass rate of <pct> percent in <region>.",
        "<person_s> said {she|he} {worries|fears|is concerned} that {a generation|many children|her pupils} will {fall behind|lose years|never return to school}.",
        "{Online|Radio|Evening} {lessons|classes|courses} {reach|serve|help} {some|a few|about} <hundreds> {students|learners|pupils} in <region>, {organisers said|teachers said|<attrib>}.",
    ),
    "agriculture": (
        "{Farmers|Growers|Planters} in <township> {planted|sowed|harvested} {less|fewer acres of|more} <crop> {this season|this year|than last year}.",
        "{Late|Heavy|Uneven} {monsoon rains|rains|storms} {damaged|flooded|delayed} {paddy fields|bean crops|seedbeds} across <region> <when>.",
        "{Fertiliser|Seed|Fuel} {costs|prices} {have risen|are up|climbed} <pct> percent, {leaving|forcing|pushing} {many|some|small} farmers {to borrow|into debt|to cut back}.",
        "{Brokers|Middlemen|Mills} {offer|pay|quote} <kyat> kyat per {basket|bag|tonne} of <crop>, {well below|barely above|close to} the cost of {growing|producing|harvesting} it.",
        "{A|One} {farmer|grower|landowner} near <town>, <name>, said {he|she} had {sold|leased|mortgaged} {two|three|four} acres to {pay|cover|clear} {debts|loans|costs}.",
        "{Exports|Shipments|Sales} of <crop> to {China|Thailand|India} {fell|dropped|slowed} {sharply|again|for a second month} <when>.",
    ),
    "culture": (
        "{Hundreds|Thousands|Crowds} of {people|visitors|families} {gathered at|came to|flocked to} <public> for the {full-moon|lantern|water} festival <when>.",
        "{Organisers|Monks|Volunteers} {scaled back|kept|simplified} {the celebrations|the festivities|the ceremony} {because of|amid|given} {security concerns|the curfew|high prices}.",
        "{A|The} {troupe|band|group} of {puppeteers|musicians|dancers} from <town> {performed|played|toured} in <few> {villages|towns|wards} {this month|this season|<when>}.",
        "{An exhibition|A book fair|A film screening} at <public> {drew|attracted|brought in} {young|curious|many} {visitors|readers|viewers} {despite|in spite of} the {rain|power cuts|heat}.",
        "<person_s> said the {festival|event|tradition} {matters|means a lot|is important} because {it brings|it keeps|it draws} {families|the ward|neighbours} together.",
    ),
    "weather": (
        "{Floods|Flash floods|Rising rivers} {forced|drove|pushed} <hundreds> {families|households|residents} {from their homes|to higher ground|into monasteries} in <township> <when>.",
        "The {meteorological|weather} department {warned|forecast|said} that {heavy rain|a tropical storm|strong winds} would {reach|hit|move across} <region> {by|on|before} <weekday>.",
        "{Temperatures|Daytime highs} in <town> {reached|hit|topped} <temp> degrees Celsius <when>, {the hottest|among the hottest|a record} for {the month|the season|the decade}.",
        "{Landslides|Mudslides} {blocked|cut|closed} the road {between|linking} <town> and <town2> for <few> days, {drivers said|officials said|<attrib>}.",
        "{Relief|Aid|Emergency} {teams|groups|volunteers} {handed out|distributed|delivered} {rice|drinking water|tarpaulins} to {villages|families|wards} {cut off|stranded|isolated} by the water.",
    ),
    "conflict": (
        "{Fighting|Clashes|Shelling} {near|around|outside} <town> {has displaced|drove out|uprooted} {thousands of|many|hundreds of} residents since <month>, {aid workers said|<attrib>}.",
        "{Residents|Villagers|Families} said {air strikes|artillery fire|drone attacks} {hit|struck|damaged} {homes|a school|a monastery} in <township> <when>.",
        "{Checkpoints|Road closures|Curfews} {around|across|in} <region> {have made|make|keep} {travel|trade|farming} {slow|costly|dangerous} for {traders|farmers|families}.",
        "{Displaced|Uprooted} families {shelter|live|camp} in {forest camps|monastery compounds|relatives' houses} {with|and have} {little|scarce|no reliable} {food|clean water|medicine}.",
        "{The|A} {humanitarian|aid|relief} {group|agency|network} said it {could not|was unable to} {reach|deliver supplies to|access} {parts of|several villages in|much of} <township>.",
    ),
}
COMMON = (
    "“We {cannot|can no longer|do not know how to} {manage|cope|plan ahead} {like this|this way|any more},” said <person>.",
    "“{Nobody|No one} {expected|thought|imagined} it would {last|go on|take} this long,” <person_s> told a reporter.",
    "<person_s> said {conditions|things|prices} had {worsened|changed|become harder} {since|after|from} <month>.",
    "{Officials|Authorities|The township administration} did not {respond to|answer|return} {requests for comment|calls|messages} <when>.",
    "{Local|Community|Ward} {leaders|elders|volunteers} {say|said|believe} {more support|outside help|better planning} is {needed|urgently needed|overdue}.",
    "{The|This} {situation|trend|problem} is {similar|much the same|no better} in {neighbouring|nearby|other} townships, {residents said|<attrib>}.",
    "{A|One} {resident|trader|volunteer} who {asked not to be named|declined to give a name|spoke anonymously} said {most|many|some} {people|neighbours|families} {are waiting|hope|plan} to {see|learn|decide} what {comes next|happens next|to do}.",
    "<person_s> {added|said} that {the cost|the risk|the uncertainty} {falls hardest|weighs most|is heaviest} on {the poorest|day labourers|older people}.",
    "{In|Across} <region>, {similar|comparable|related} {reports|complaints|accounts} have {come|emerged|surfaced} from <few> other townships.",
    "{According to|Citing} {figures|estimates|data} from {local groups|aid agencies|the ward office}, {about|roughly|more than} <hundreds> households {are affected|were affected|need help}.",
    "{It|This} {is|was} the <ordinal> {such|similar} {report|incident|case} in <town> {this year|since <month>|in recent months}.",
    "“{We will|We have to|We must} {keep going|carry on|find a way},” said <person>, {adding|who added} that {help|support|relief} {had been|was} {slow|scarce|uneven}.",
)
DEFECTION_LEADS = (
    "<n_people> soldiers from <unit> defected to the <org> in <township> <when>, the group said.",
    "<n_people> junta soldiers deserted their posts near <town> and joined the <org> <when>, according to the group.",
    "<n_people> police officers in <township> joined the civil disobedience movement <when>, the <org> said.",
    "<n_people> soldiers surrendered to the <org> near <town> <when>, the group said in a statement.",
    "<n_people> members of <unit> switched sides and joined the <org> in <township> <when>, local sources said.",
)
WEAPON_LINES = (
    "The defectors brought <n_rifles> rifles and <n_pistols> pistols with them, the <org> said.",
    "They handed over <n_rifles> assault rifles and <n_pistols> pistols, a spokesman for the <org> said.",
)
DEFECTION_FOLLOW = (
    "A spokesman for the <org> said the men would be {housed|sheltered|kept} with their families {in a safe place|away from the front|in a camp} {for now|until further notice|while they are debriefed}.",
    "The junta did not {comment|respond|answer questions} on the report <when>.",
    "The <org> said it {expected|hoped for|was preparing for} more {arrivals|departures from the ranks} in the coming weeks.",
)
CONSCRIPTION_LEADS = (
    "Ward administrators in <town> handed call-up letters to <n_people> young men <when> under the conscription law, residents said.",
    "Authorities in <township> summoned <n_people> young people for military service <when>, local residents said.",
)
CONSCRIPTION_FOLLOW = (
    "{Families|Parents|Relatives} said {many|some|several} young men had {left|fled|moved away} {to avoid|for fear of} the call-up.",
    "The regime began enforcing the People's Military Service Law in <year>, {requiring|making} men aged 18 to 35 {to serve|serve} two years.",
    "{Brokers|Agents|Middlemen} in <town> {charge|ask|demand} <kyat> kyat to {arrange|help with|organise} {passports|travel|work permits} abroad, {residents said|<attrib>}.",
)
COMMENT_LINES = (
    "Thank you for reporting this, nobody else covers <town>.",
    "Prices here in <town> are even worse than the article says.",
    "My cousin in <township> says the same thing happened last month.",
    "I heard <n_rumour> soldiers deserted near <town> but nobody confirms it.",
    "Please write more about the schools, our children are at home.",
    "The power was out again all night in our ward.",
    "Who will pay for all of this in the end?",
)
HEADLINES = {
    "economy": ("<good_cap> prices climb again in <town>", "Traders in <town> feel the squeeze as the kyat slides",
                "<sector_cap> firms in <region> cut shifts"),
    "infrastructure": ("Power cuts stretch to <few> hours a day in <town>", "Road repairs near <town> stall again",
                       "<town> waits for a new bridge"),
    "health": ("Dengue cases rise in <town>", "Clinics in <township> run short of medicine",
               "Volunteers open a free clinic in <town>"),
    "education": ("Schools in <town> reopen with half the pupils", "Parents in <township> turn to volunteer teachers",
                  "Exam results show a sharp drop in <region>"),
    "agriculture": ("Farmers in <township> plant less <crop>", "Fertiliser costs squeeze growers in <region>",
                    "Late rains delay the <crop> harvest near <town>"),
    "culture": ("Crowds return for the festival in <town>", "A puppet troupe from <town> tours the villages",
                "Book fair draws readers to <town>"),
    "weather": ("Floods drive families from their homes in <township>", "Heat record in <town>",
                "Landslides cut the road to <town>"),
    "conflict": ("Fighting near <town> uproots villagers", "Aid groups struggle to reach <township>",
                 "Checkpoints slow trade across <region>"),
    "defection": ("<n_cap> soldiers defect to the <org> in <township>", "Troops desert near <town> and join the <org>",
                  "<org> says <n_people> soldiers switched sides"),
    "conscription": ("Call-up letters reach <n_people> young men in <town>", "Conscription drive widens in <township>",
                     "Young people leave <town> ahead of the call-up"),
}
CROPS = ("paddy", "rice", "beans", "sesame", "maize", "groundnuts", "chillies", "onions", "rubber", "tea")


def _number_words(n: int) -> str:
    if n in NUM_WORDS:
        return NUM_WORDS[n]
    if n < 100:
        return f"{NUM_WORDS[n - n % 10]}-{NUM_WORDS[n % 10]}"
    return str(n)


class _Writer:
    """Fills templates from the word lists with one seeded RNG; holds per-article facts."""

    _PART = re.compile(r"\{([^{}]*)\}|<(\w+)>")

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.facts: dict = {}
        c = rng.choice
        r = rng.randint
        self.slots: dict[str, Callable[[], str]] = {
            "town": lambda: self.facts.setdefault("town", c(TOWNS)),
            "town2": lambda: c(TOWNS),
            "township": lambda: self.facts.setdefault("township", c(TOWNSHIPS)),
            "region": lambda: self.facts.setdefault("region", c(REGIONS)),
            "org": lambda: self.facts.setdefault("org", c(RES_ORGS)),
            "person": lambda: f"{self.name()}, {self.fill(c(ROLES + EXPERTS))}",
            "person_s": lambda: f"{self.name()}, {self.fill(c(ROLES + EXPERTS))},",
            "name": self.name,
            "attrib": lambda: c(("residents said", "officials said", f"according to {self.name()}",
                                 "local media reported", f"{self.name()} said", "traders said")),
            "when": lambda: c(("on " + c(WEEKDAYS), "last week", "earlier this month", "this week",
                               "on " + c(WEEKDAYS) + " morning", f"in early {c(MONTHS)}", "over the weekend")),
            "ago": lambda: c(("a month ago", "last year", f"in {c(MONTHS)}", "at the start of the year")),
            "month": lambda: c(MONTHS),
            "weekday": lambda: c(WEEKDAYS),
            "year": lambda: str(r(2021, 2024)),
            "good": lambda: c(GOODS),
            "good_cap": lambda: c(GOODS).capitalize(),
            "crop": lambda: self.facts.setdefault("crop", c(CROPS)),
            "sector": lambda: self.facts.setdefault("sector", c(SECTORS)),
            "sector_cap": lambda: self.facts.setdefault("sector", c(SECTORS)).capitalize(),
            "public": lambda: c(PLACES_PUBLIC),
            "pct": lambda: str(r(3, 65)),
            "kyat": lambda: f"{r(2, 400) * 500:,}",
            "few": lambda: c(("two", "three", "four", "five", "six", "eight", "ten", "12")),
            "hundreds": lambda: str(r(40, 950)),
            "thousands": lambda: f"{r(2, 90) * 1000:,}",
            "temp": lambda: str(r(38, 44)),
            "ordinal": lambda: c(("second", "third", "fourth", "fifth")),
            "unit": lambda: f"{c(('Light Infantry Battalion', 'Infantry Battalion', 'Artillery Battalion'))} {r(11, 599)}",
            "n_people": lambda: self.facts["n_text"],
            "n_cap": lambda: self.facts["n_text"].capitalize(),
            "n_rifles": lambda: str(self.facts["rifles"]),
            "n_pistols": lambda: _number_words(self.facts["pistols"]),
            "n_rumour": lambda: str(r(100, 900)),
        }

    def name(self) -> str:
        rng = self.rng
        return " ".join([rng.choice(HONORIFICS)] + rng.sample(SYLLABLES, rng.choice((2, 2, 3))))

    def _part(self, match: re.Match) -> str:
        if match.group(1) is not None:
            return self.rng.choice(match.group(1).split("|"))
        return self.slots[match.group(2)]()

    def fill(self, template: str) -> str:
        # Two passes: a choice may itself contain a slot ("{x|<attrib>}").
        text = self._PART.sub(self._part, template)
        return self._PART.sub(self._part, text) if "<" in text or "{" in text else text

    def sentence(self, topic: str) -> str:
        pool = TOPICS[topic] if self.rng.random() < 0.6 else COMMON
        text = self.fill(self.rng.choice(pool))
        return text[0].upper() + text[1:]


# ---------------------------------------------------------------- articles


def _people_count(rng: random.Random) -> tuple[int, str]:
    n = rng.choice((rng.randint(3, 19), rng.randint(20, 99), rng.randint(20, 99), rng.randint(100, 450)))
    return n, (_number_words(n) if n < 100 and rng.random() < 0.4 else str(n))


def compose(w: _Writer, topic: str, words: int) -> tuple[str, list[str], dict]:
    """One article: (headline, paragraphs, facts) for a topic, about `words` words long."""
    rng = w.rng
    w.facts = {}
    facts: dict = {"topic": topic, "defectors": None, "weapons": None}
    lead: list[str] = []
    background = rng.choice([t for t in TOPICS if t not in ("defection", "conscription")])
    if topic == "defection":
        n, text = _people_count(rng)
        w.facts.update(n_text=text, rifles=rng.randint(2, max(3, n)), pistols=rng.randint(1, 9))
        lead.append(w.fill(rng.choice(DEFECTION_LEADS)))
        facts["defectors"] = n
        if rng.random() < 0.5:
            lead.append(w.fill(rng.choice(WEAPON_LINES)))
            facts["weapons"] = w.facts["rifles"] + w.facts["pistols"]
        lead.append(w.fill(rng.choice(DEFECTION_FOLLOW)))
        background = "conflict"
    elif topic == "conscription":
        n, text = _people_count(rng)
        w.facts.update(n_text=text)
        lead.append(w.fill(rng.choice(CONSCRIPTION_LEADS)))
        lead += [w.fill(t) for t in rng.sample(CONSCRIPTION_FOLLOW, 2)]
        facts["called_up"] = n
    headline = w.fill(rng.choice(HEADLINES[topic]))
    body_topic = background if topic in ("defection", "conscription") else topic
    paragraphs = [" ".join(lead)] if lead else []
    count = sum(len(p.split()) for p in paragraphs)
    while count < words:
        para = " ".join(w.sentence(body_topic) for _ in range(rng.randint(2, 4)))
        paragraphs.append(para)
        count += len(para.split())
    return headline[0].upper() + headline[1:], paragraphs, facts


def near_copy(rng: random.Random, w: _Writer, headline: str, paragraphs: list[str]) -> tuple[str, list[str]]:
    """An edited syndicated copy: new headline, a paragraph dropped, words changed, a credit line."""
    paras = list(paragraphs)
    if len(paras) > 4:
        del paras[rng.randrange(2, len(paras))]
    if len(paras) > 5 and rng.random() < 0.5:
        i = rng.randrange(2, len(paras) - 1)
        paras[i], paras[i + 1] = paras[i + 1], paras[i]
    swaps = {"said": "says", "residents": "locals", "families": "households", "about": "around", "rose": "increased",
             "many": "numerous", "help": "assistance", "nearby": "neighbouring", "week": "weekend", "new": "fresh"}
    edited = []
    for para in paras:
        words = [swaps[t] if t in swaps and rng.random() < 0.3 else t for t in para.split(" ")]
        edited.append(" ".join(words))
    if len(edited) > 3 and rng.random() < 0.5:
        last = edited[-1].split(". ")
        edited[-1] = ". ".join(last[: max(1, len(last) - 1)])
    edited.append(f"Reporting by {w.name()}; editing by {w.name()}.")
    return "UPDATED: " + headline if rng.random() < 0.3 else headline + " — report", edited


def _slug(headline: str, aid: str) -> str:
    words = re.findall(r"[a-z0-9]+", headline.lower())[:9]
    return "-".join(words + [aid])


# ---------------------------------------------------------------- page templates

OUTLETS = (
    ("chindwin-courier", "Chindwin Courier", "rss", "utf-8"),
    ("thanlwin-times", "Thanlwin Times", "atom", "utf-8"),
    ("bago-bulletin", "Bago Bulletin", "rss", "windows-1252"),
    ("coastline-review", "Coastline Review", "atom", "utf-8"),
    ("delta-evening-post", "Delta Evening Post", "rss", "utf-8"),
    ("highland-monitor", "Highland Monitor", "atom", "utf-8"),
)
_NAV = ("News", "Politics", "Business", "Regions", "Opinion", "Features", "Video", "Podcast", "Photo", "Sport",
        "Culture", "Environment", "Health", "Education", "Archive", "About us", "Contact", "Donate")
_STYLE = ("body{font-family:Georgia,serif;margin:0;color:#222}.site-header{background:%s;color:#fff;padding:8px 16px}"
          ".nav ul{list-style:none;display:flex;gap:12px;margin:0;padding:0}.cookie{position:fixed;bottom:0;left:0;"
          "right:0;background:#111;color:#eee;padding:12px}.share a{margin-right:8px}.related{border-top:3px solid %s}"
          ".newsletter{background:#f4efe6;padding:16px}.comments li{margin-bottom:12px}footer{background:#222;color:#bbb}")
_SCRIPT = ("window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());"
           "gtag('config','G-%s');var _paq=window._paq=window._paq||[];_paq.push(['trackPageView']);"
           "(function(){var d=document,g=d.createElement('script');g.async=true;g.src='/js/ads.js';"
           "d.getElementsByTagName('head')[0].appendChild(g);})();")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _chrome_top(outlet: tuple, art: dict, color: str) -> str:
    slug, name, _, charset = outlet
    nav = "".join(f'<li><a href="/{slug}/{n.lower().replace(" ", "-")}/">{n}</a></li>' for n in _NAV)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(art['title'])} | {name}</title>\n"
        f'<meta name="description" content="{_esc(art["summary"])}">\n'
        f'<meta property="og:site_name" content="{name}">\n<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{_esc(art["title"])}">\n'
        f'<link rel="canonical" href="{art["url"]}">\n<style>{_STYLE % (color, color)}</style>\n'
        f"<script>{_SCRIPT % slug[:6].upper()}</script>\n{{META}}</head>\n<body>\n"
        f'<div class="cookie" id="cookie-consent"><p>We use cookies to improve your experience and to measure '
        f'traffic. By clicking “Accept” you agree to our use of cookies. <a href="/privacy/">Privacy policy</a></p>'
        f'<button>Accept</button> <button>Settings</button></div>\n'
        f'<header class="site-header"><a class="logo" href="/{slug}/">{name}</a>'
        f'<nav class="nav" aria-label="Main"><ul>{nav}</ul></nav>'
        f'<form class="search" action="/search/"><input name="q" placeholder="Search"></form></header>\n'
    )


def _share(url: str) -> str:
    return ('<div class="share">Share: ' + " ".join(
        f'<a href="https://{s}.example/share?u={url}" rel="nofollow">{s.capitalize()}</a>'
        for s in ("facebook", "twitter", "telegram", "whatsapp", "email")) + " <button>Copy link</button></div>\n")


def _newsletter(name: str) -> str:
    return (f'<aside class="newsletter"><h3>Get {name} in your inbox</h3><p>Our editors pick the day\'s most '
            f'important stories every morning. Free, no spam, unsubscribe at any time.</p><form><input type="email" '
            f'placeholder="Your email"><button>Sign up</button></form></aside>\n')


def _related(items: list[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="{u}">{_esc(t)}</a></li>' for u, t in items)
    return f'<aside class="related"><h3>Related stories</h3><ul>{links}</ul></aside>\n'


def _comments(comments: list[tuple[str, str]]) -> str:
    if not comments:
        return ""
    items = "".join(f'<li class="comment"><div class="comment-author">{_esc(a)}</div>'
                    f'<div class="comment-body"><p>{_esc(t)}</p></div></li>' for a, t in comments)
    return f'<section class="comments" id="comments"><h3>{len(comments)} comments</h3><ol>{items}</ol></section>\n'


def _footer(slug: str, name: str) -> str:
    links = " · ".join(f'<a href="/{slug}/{p}/">{p.replace("-", " ").title()}</a>'
                       for p in ("about", "ethics-policy", "corrections", "advertise", "careers", "terms", "privacy"))
    return (f'<footer><p>{links}</p><p>© 2025 {name}. All rights reserved. Reproduction without permission is '
            f'prohibited.</p></footer>\n<script>document.querySelector(".cookie button").onclick=function()'
            f'{{this.parentNode.style.display="none"}};</script>\n</body>\n</html>\n')


def render_page(outlet: tuple, art: dict, related: list, comments: list) -> str:
    """The article's HTML page in its outlet's template."""
    slug, name, _, _ = outlet
    color = ("#7a1f1f", "#1f4e7a", "#2f5d2f", "#5a3c7a", "#7a5a1f", "#1f6a6a")[[o[0] for o in OUTLETS].index(slug)]
    when = datetime.fromisoformat(art["published"])
    day = f"{when.day} {MONTHS[when.month - 1]} {when.year}"
    paras = art["paragraphs"]
    title, author = _esc(art["title"]), _esc(art["author"])
    meta = f'<meta property="article:published_time" content="{art["published"]}">\n'
    if slug == "chindwin-courier":
        body = "".join(f"<p>{_esc(p)}</p>\n" for p in paras)
        main = (f'<article class="story"><h1 class="headline">{title}</h1><p class="byline">By {author} · '
                f'<time datetime="{art["published"]}">{day}</time></p>{_share(art["url"])}'
                f'<div class="article-body">\n{body}</div></article>\n{_related(related)}{_newsletter(name)}')
    elif slug == "thanlwin-times":
        body = "".join(f"<p>{_esc(p)}</p>\n" for p in paras)
        main = (f'<div class="layout">{_related(related)}<div class="story-wrap"><h1>{title}</h1>'
                f'<div class="author">{author}</div>{_share(art["url"])}<div class="story-body">\n{body}</div>'
                f"{_newsletter(name)}</div></div>\n")
    elif slug == "bago-bulletin":
        meta = ""
        body = "".join(f"<div class='para'>{_esc(p)}</div>\n" for p in paras)
        main = (f'<div class="entry"><h1 class="entry-title">{title}</h1><div class="entry-meta">By {author} | '
                f'{day}</div>{_share(art["url"])}<div class="entry-content">\n{body}</div></div>\n'
                f"{_newsletter(name)}{_related(related)}")
    elif slug == "coastline-review":
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": art["title"],
                         "datePublished": art["published"], "author": {"@type": "Person", "name": art["author"]}})
        meta = f'<script type="application/ld+json">{ld}</script>\n'
        body = "".join(f"<p>{_esc(p)}</p>\n" for p in paras)
        main = (f'<article class="post"><header><h1>{title}</h1><span class="by">{author}</span> '
                f'<time datetime="{art["published"]}">{day}</time></header>{_share(art["url"])}'
                f'<section class="post-content">\n{body}</section></article>\n{_newsletter(name)}{_related(related)}')
    elif slug == "delta-evening-post":
        parts = [f"<p>{_esc(p)}</p>\n" for p in paras]
        parts.insert(min(2, len(parts)), '<div class="ad-slot">Advertisement</div>\n')
        if related:
            parts.insert(min(4, len(parts)), f'<p><strong>READ MORE:</strong> <a href="{related[0][0]}">'
                                             f"{_esc(related[0][1])}</a></p>\n")
        main = (f'<div class="article"><h1>{title}</h1><p class="published">Published {day}</p>'
                f'<p class="by">{author}</p>{_share(art["url"])}<div class="article-content" itemprop="articleBody">\n'
                f'{"".join(parts)}</div></div>\n{_related(related)}{_newsletter(name)}')
    else:
        body = []
        for i, p in enumerate(paras):
            body.append(f"<p>{_esc(p)}</p>\n")
            if i == 1:
                body.append(f'<figure><img src="/img/{art["id"]}.jpg" alt=""><figcaption>{_esc(art["town"])} '
                            f"this year. Photo: {name}</figcaption></figure>\n")
        main = (f'<main><div class="content"><h1>{title}</h1><div class="meta">{author} — {day}</div>'
                f'{_share(art["url"])}\n{"".join(body)}</div></main>\n{_newsletter(name)}{_related(related)}')
    top = _chrome_top(outlet, art, color).replace("{META}", meta)
    return top + main + _comments(comments) + _footer(slug, name)


def _rfc822(iso: str) -> str:
    when = datetime.fromisoformat(iso).astimezone(timezone(timedelta(hours=6, minutes=30)))
    return when.strftime("%a, %d %b %Y %H:%M:%S +0630")


def render_feed(outlet: tuple, index: int, items: list[dict]) -> str:
    """An RSS 2.0 or Atom feed of the given articles."""
    slug, name, kind, _ = outlet
    feed_url = f"{BASE_PLACEHOLDER}/feeds/{slug}-{index}.xml"
    if kind == "rss":
        entries = "".join(
            f"<item><title>{_esc(a['title'])}</title><link>{a['url']}</link>"
            f'<guid isPermaLink="true">{a["url"]}</guid><pubDate>{_rfc822(a["published"])}</pubDate>'
            f"<description><![CDATA[<p>{a['summary']}</p>]]></description></item>\n" for a in items)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
                f"<link>{BASE_PLACEHOLDER}/{slug}/</link><description>{name} news</description>\n{entries}"
                f"</channel></rss>\n")
    entries = "".join(
        f'<entry><title>{_esc(a["title"])}</title><link rel="alternate" href="{a["url"]}"/><id>{a["url"]}</id>'
        f"<published>{a['published']}</published><updated>{a['published']}</updated>"
        f"<summary>{_esc(a['summary'])}</summary></entry>\n" for a in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>{name}'
            f'</title><id>{feed_url}</id><link rel="self" href="{feed_url}"/>'
            f"<updated>{items[0]['published']}</updated>\n{entries}</feed>\n")


def _assign_outlets(rng: random.Random, n_orig: int, sources: list[int]) -> list[int]:
    """Outlet per article (originals, then copies in `sources` order) so feeds fill up to 100 items.

    Every outlet gets whole feeds where the size allows; a copy never shares
    its original's outlet.
    """
    n = n_orig + len(sources)
    k = len(OUTLETS)
    capacity = [0] * k
    if n >= FEED_ITEMS * 2:
        for f in range(n // FEED_ITEMS):
            capacity[f % k] += FEED_ITEMS
        capacity[(n // FEED_ITEMS) % k] += n % FEED_ITEMS
    else:
        for i in range(n):
            capacity[i % k] += 1
    outlet_of = [-1] * n
    for j, src in enumerate(sources):
        open_outlets = [o for o in range(k) if capacity[o] > 0]
        if len(open_outlets) >= 2:
            first = rng.choices(open_outlets, [capacity[o] for o in open_outlets])[0]
            rest = [o for o in open_outlets if o != first]
            second = rng.choices(rest, [capacity[o] for o in rest])[0]
        else:  # too few slots left: a feed runs over rather than a copy sharing an outlet
            first = open_outlets[0] if open_outlets else rng.randrange(k)
            second = rng.choice([o for o in range(k) if o != first])
        for o in (first, second):
            capacity[o] = max(0, capacity[o] - 1)
        outlet_of[src], outlet_of[n_orig + j] = first, second
    slots = [o for o in range(k) for _ in range(capacity[o])]
    rng.shuffle(slots)
    rest = iter(slots)
    for i in range(n_orig):
        if outlet_of[i] < 0:
            outlet_of[i] = next(rest, 0)
    return outlet_of


# ---------------------------------------------------------------- corpus


def generate(n: int, out: str | Path, seed: int = 7, dup_share: float = 0.1, topic_share: float = 0.3) -> dict:
    """Write the corpus to `out`; return the manifest (also written to out/manifest.json)."""
    if n < 1 or not 0 <= dup_share < 1 or not 0 <= topic_share <= 1:
        raise ValueError("need articles >= 1, 0 <= dup-share < 1, 0 <= topic-share <= 1")
    rng = random.Random(seed)
    w = _Writer(rng)
    out = Path(out)
    site = out / "site"
    n_dups = int(round(n * dup_share))
    n_orig = n - n_dups
    ordinary = [t for t in TOPICS if t != "conflict"] + ["conflict"]
    sources = rng.sample(range(n_orig), n_dups)
    outlet_of = _assign_outlets(rng, n_orig, sources)
    articles: list[dict] = []
    for i in range(n_orig):
        roll = rng.random()
        if roll < topic_share * 0.6:
            topic = "defection"
        elif roll < topic_share:
            topic = "conscription"
        else:
            topic = rng.choice(ordinary)
        headline, paras, facts = compose(w, topic, rng.randint(400, 1150))
        published = _START + timedelta(days=rng.uniform(0, _SPAN_DAYS))
        articles.append({"id": f"a{i:06d}", "outlet": outlet_of[i], "title": headline, "paragraphs": paras,
                         "published": published.replace(microsecond=0), "duplicate_of": None,
                         "town": w.facts.get("town") or rng.choice(TOWNS), **facts})
    for j, src in enumerate(sources):
        orig = articles[src]
        headline, paras = near_copy(rng, w, orig["title"], orig["paragraphs"])
        articles.append({**orig, "id": f"a{n_orig + j:06d}", "outlet": outlet_of[n_orig + j], "title": headline,
                         "paragraphs": paras, "duplicate_of": orig["id"],
                         "published": orig["published"] + timedelta(seconds=rng.randint(2 * 3600, 40 * 3600))})
    by_outlet: dict[int, list[dict]] = {k: [] for k in range(len(OUTLETS))}
    for art in articles:
        slug = OUTLETS[art["outlet"]][0]
        pub = art["published"]
        art["published"] = pub.isoformat()
        art["path"] = f"/{slug}/{pub:%Y/%m}/{_slug(art['title'], art['id'])}.html"
        art["url"] = BASE_PLACEHOLDER + art["path"]
        art["author"] = w.name()
        art["summary"] = art["paragraphs"][0].split(". ")[0][:200]
        by_outlet[art["outlet"]].append(art)
    titles = [(a["url"], a["title"]) for a in articles]
    total_bytes = 0
    made_dirs: set[Path] = set()
    manifest_rows = []
    for art in articles:
        outlet = OUTLETS[art["outlet"]]
        comments = []
        if rng.random() < 0.35:
            w.facts = {}
            comments = [(w.name(), w.fill(rng.choice(COMMENT_LINES))) for _ in range(rng.randint(1, 4))]
        page = render_page(outlet, art, rng.sample(titles, min(6, len(titles))), comments)
        data = page.encode(outlet[3], errors="xmlcharrefreplace")
        path = site / art["path"].lstrip("/")
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        path.write_bytes(data)
        total_bytes += len(data)
    feeds = []
    (site / "feeds").mkdir(parents=True, exist_ok=True)
    for k, items in by_outlet.items():
        items.sort(key=lambda a: a["published"], reverse=True)
        for index, start in enumerate(range(0, len(items), FEED_ITEMS)):
            chunk = items[start:start + FEED_ITEMS]
            feed_path = f"/feeds/{OUTLETS[k][0]}-{index}.xml"
            (site / feed_path.lstrip("/")).write_text(render_feed(OUTLETS[k], index, chunk), "utf-8")
            feeds.append({"path": feed_path, "outlet": OUTLETS[k][0], "format": OUTLETS[k][2], "items": len(chunk)})
            for art in chunk:
                art["feed"] = feed_path
    for art in articles:
        manifest_rows.append({
            "id": art["id"], "path": art["path"], "outlet": OUTLETS[art["outlet"]][0], "feed": art["feed"],
            "title": art["title"], "published": art["published"], "words": sum(len(p.split()) for p in art["paragraphs"]),
            "topic": art["topic"], "defection_report": art["topic"] == "defection", "defectors": art["defectors"],
            "weapons": art["weapons"], "conscription": art["topic"] == "conscription",
            "duplicate_of": art["duplicate_of"],
        })
    manifest = {
        "version": MANIFEST_VERSION,
        "params": {"articles": n, "seed": seed, "dup_share": dup_share, "topic_share": topic_share},
        "base_placeholder": BASE_PLACEHOLDER,
        "page_bytes": total_bytes,
        "feeds": feeds,
        "articles": manifest_rows,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    return manifest


def load_manifest(out: str | Path) -> Optional[dict]:
    """The manifest in `out`, or None when there is none."""
    path = Path(out) / "manifest.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a synthetic news corpus (pages, RSS/Atom feeds of 100 items, manifest) for the bench.",
        epilog="example:\n  python bench/generate.py --articles 10000 --out /tmp/bench-corpus --seed 7",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, required=True, metavar="N", help="articles to write (copies included)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (site/ and manifest.json)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-share", type=float, default=0.1, help="share of articles that are near-duplicates")
    parser.add_argument("--topic-share", type=float, default=0.3,
                        help="share of originals about defection (60%%) or conscription (40%%)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    manifest = generate(args.articles, args.out, args.seed, args.dup_share, args.topic_share)
    rows = manifest["articles"]
    print(f"{len(rows)} articles ({sum(r['duplicate_of'] is not None for r in rows)} near-duplicates, "
          f"{sum(r['defection_report'] for r in rows)} defection reports, {sum(r['conscription'] for r in rows)} "
          f"conscription), {len(manifest['feeds'])} feeds, {manifest['page_bytes'] / 1e6:.1f} MB of pages "
          f"in {time.perf_counter() - t0:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
