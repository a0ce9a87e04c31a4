"""The curated red-flag bank, as data: lexicon, findings, combination rules and how they combine.

Everything here is matched against *normalised* text (see ``triage.normalise_text``):
lower case, contractions expanded ("can't" -> "cannot", "i've" -> "i have"), common
misspellings and txt-speak corrected, one space between words.

Sources: NHS back pain / sciatica / kidney infection / AAA pages, NHS trust cauda equina
(CES) leaflets, NICE CKS red flags and NG234 (MSCC), as summarised with lay wording in
``shared/research/medical-safety.md`` table 1.3.

Three layers:

* ``FINDINGS``: one lexicon entry per clinical idea ("saddle numbness", "fever", "own cancer
  history"). Each names the ConText-style modifiers that may cancel a match in its clause:

  - ``negation``      "no numbness", "haven't had any trouble peeing"
  - ``hypothetical``  "if I ever can't pee, should I...", "signs of..."
  - ``info``          a question with no one's symptoms in it: "what does CES feel like?"
  - ``past``          resolved or remote: "the temperature I had at Christmas is long gone"
  - ``experiencer``   someone else's history: "my dad had cancer" (unless the user is a carer
                      describing that person's current symptoms)
  - ``positional``    numbness from sitting cross-legged that went away
  - ``exertion``      legs weak "after leg day"
  - ``concern``       "worried it could be cancer" is not a cancer history

* ``RULES``: combinations of findings that raise a level ("fever" only with back pain).
* The learned layer (``learned_flags.py``) replaced the old semantic bank: it is trained on
  labelled messages instead of matching 21 descriptions at a fixed cosine.
"""
from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------------------
# Lexicon building blocks (regex fragments, no capturing groups)
# --------------------------------------------------------------------------------------

WHOSE = r"(?:my|his|her|their|your|the|our)"
RELATIVE = (
    r"(?:mum|mom|mother|mam|dad|father|sister|brother|aunt|auntie|uncle|nan|nana|gran|granny|"
    r"grandma|grandmother|grandad|granddad|grandfather|grandpa|cousin|friend|mate|neighbour|"
    r"neighbor|colleague|boss|wife|husband|partner|son|daughter|boyfriend|girlfriend|"
    r"fiance|fiancee|parents?|family|relative|niece|nephew|in-law|mother-in-law|father-in-law)"
)
CLAUSE_GAP = r"[^.!?;\n]{0,40}?"
SHORT_GAP = r"[^.!?;\n]{0,25}?"

_NUMB = (
    r"(?:numb\w*|tingl\w*|pins and needles|no feeling|no sensation|lost (?:the |all )?(?:feeling|sensation)|"
    r"loss of (?:feeling|sensation)|(?:cannot|could not|can barely|can hardly|no longer|unable to)(?: really| properly| quite| fully)? feel|"
    r"not able to feel|reduced (?:feeling|sensation)|altered (?:feeling|sensation)|dead|"
    r"(?:feels?|feeling) (?:weird|strange|funny|odd|different|like cotton wool))"
)
_SADDLE = (
    r"(?:bum|bums|bum cheeks|bottom(?! of)|butt(?! of)|buttocks|bum area|back passage|anus|anal|rectum|"
    r"genitals?|genital area|privates|private parts|private area|down there|down below|groin|crotch|"
    r"between (?:my|his|her|the) legs|inner thighs?|saddle(?: area| region)?|perine\w*|vagina|vulva|"
    r"penis|scrotum|testicles|balls(?! of)|nether regions|undercarriage|"
    r"when (?:i|he|she) wipes?|wiping|toilet (?:paper|roll)|loo roll)"
)
_PEE = (
    r"(?:pee|pees|peed|peeing|wee|wees|weed|weeing|a wee|a pee|urin\w*|pass(?:ing)? water|piss\w*|"
    r"bladder|go to the (?:toilet|loo|bathroom) for a (?:wee|pee))"
)
_POO = r"(?:poo|poos|pooing|poop|pooping|bowels?|bowel movement|number two|stool)"
_NEURO_STRONG = (
    r"(?:numb\w*|tingl\w*|pins and needles|weak\w*|giv\w* way|gave way|buckl\w*|jelly|dead|"
    r"no feeling|(?:cannot|could not|can barely|no longer) (?:feel|move|lift)|paraly\w*|"
    r"lost (?:the )?(?:use|feeling|strength|power))"
)
_NEURO_BOTH_ONLY = r"(?:heavy|sciatica|shooting pains?|pain|pains|hurt\w*|ache|aching|burning)"
DRUG = (
    r"(?:paracetamol|acetaminophen|tylenol|panadol|calpol|ibuprofen|nurofen|advil|motrin|brufen|"
    r"naproxen|naprosyn|aleve|diclofenac|voltarol|voltaren|aspirin|codeine|co-codamol|co-dydramol|"
    r"solpadeine|tramadol|dihydrocodeine|morphine|oramorph|oxycodone|oxycontin|fentanyl|"
    r"buprenorphine|gabapentin|pregabalin|lyrica|amitriptyline|nortriptyline|duloxetine|"
    r"diazepam|valium|cyclobenzaprine|baclofen|methocarbamol|celecoxib|etoricoxib|meloxicam|"
    r"ketoprofen|prednisolone|prednisone|cocodamol|nsaids?|anti-?inflammator(?:y|ies)|"
    r"pain ?killers?|painkilling tablets|muscle relaxants?|tablets?|pills?|meds|medication|medicine|"
    r"capsules?|caps|tabs|gel|(?:medicated|pain ?relief|lidocaine|diclofenac|buprenorphine|fentanyl|"
    r"morphine|butrans) patch(?:es)?)"
)
_FEVER = (
    r"(?:fever\w*|feverish|febrile|pyrexi\w*|(?<!room )(?<!cold )(?<!outside )(?<!air )(?<!water )"
    r"(?<!bath )(?<!weather )temperature(?!s)|\btemp\b|\b3[89](?:\.\d)? ?(?:°|degrees|deg)? ?c\b|"
    r"\b(?:100|101|102|103|104)(?:\.\d)? ?(?:°|degrees|deg)? ?f\b|burning up|boiling up|"
    r"hot and (?:cold|shivery|sweaty|shaky)|shiver\w*|shivery|\bthe shakes\b|"
    r"shaking (?:all over|uncontrollabl\w*|with cold)|rigou?rs|chills|night sweats|"
    r"sweat\w* (?:\w+ ){0,3}?(?:at night|in bed|through the night|every night)|sweating buckets|"
    r"drenched in sweat|soaked (?:the |my )?(?:sheets|bed|pyjamas|pajamas)|"
    r"(?:wake|woke|waking) up (?:soaked|drenched))"
)
PAIN_WORD = (
    r"(?:pain\w*|ache\w*|aching|hurt\w*|sore\w*|agony|agonising|stabbing|burning|throbbing|killing|"
    r"twinge\w*|tender)"
)

# --------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------

SYMPTOM = frozenset({"negation", "hypothetical", "info", "past"})
HISTORY = frozenset({"negation", "hypothetical", "info", "experiencer", "concern"})
CONTEXT: frozenset[str] = frozenset()  # a topic, not a claim: no modifier applies


@dataclass(frozen=True)
class Finding:
    """One clinical idea found in text: lexicon patterns plus the modifiers that can cancel it."""

    id: str
    patterns: tuple[str, ...]
    modifiers: frozenset[str] = SYMPTOM


FINDINGS: tuple[Finding, ...] = (
    # ---- cauda equina syndrome (CES) -------------------------------------------------
    Finding(
        "saddle_numb",
        (
            _NUMB + SHORT_GAP + _SADDLE,
            _SADDLE + r"(?: area| region| cheeks)?" + SHORT_GAP + r"(?:is |are |feels? |gone |has gone |went )?" + _NUMB,
            r"(?:sex|intercourse) (?:feels? |felt |is |was |has been )?(?:numb|different)",
            r"(?:cannot|could not) feel (?:anything|much|a thing) (?:during|when having) sex",
            r"(?:no|lost|loss of) (?:feeling|sensation) (?:during|when having|in) sex",
            r"saddle (?:anaesthesia|anesthesia|paraesthesia|paresthesia|numbness)",
            r"(?:like (?:i have|i am|he has|she has) )?sat on (?:my|his|her) hands?",
        ),
        SYMPTOM | {"positional"},
    ),
    Finding(
        "bladder",
        (
            r"(?:cannot|could not|unable to|not able to|can barely|can hardly|struggl\w* to|hard to|"
            r"difficult\w* to|difficulty|trouble|troubles|problems?|issues?|hesitan\w*|strain\w* to|"
            r"(?:have|had|having) to (?:really |properly )?(?:push|strain)(?: to)?|no longer able to|"
            r"(?:do not|does not|did not) (?:seem to )?be able to)"
            r"\s+(?:\w+\s+){0,3}?" + _PEE,
            _PEE + r" (?:\w+ ){0,2}?(?:problems?|issues?|troubles?|difficult\w*|will not (?:start|come|go)|"
            r"not working|stopped working|has stopped|is not emptying|not emptying|(?:will|does) not empty|feels? full)",
            r"(?:wet|wetting|peed|pissed|weed|wee'd|pee'd) (?:my|him|her|them)sel(?:f|ves)",
            r"(?:wet|wetting) (?:my|his|her) (?:pants|trousers|knickers)",
            r"accidents? (?:in|on) (?:my|his|her) (?:pants|underwear|trousers|knickers|bed|chair)",
            r"(?:leak\w*|dribbl\w*) (?:\w+ ){0,2}?(?:urine|pee|wee)",
            r"(?:urine|pee|wee) (?:\w+ ){0,2}?(?:leak\w*|dribbl\w*)",
            r"(?:urinary|bladder) (?:incontinen\w*|retention)|retention of urine|incontinen\w*",
            r"(?:no|lost|lose|losing|loss of|not in|do not have|have no|without) control (?:of|over) "
            r"(?:my |his |her )?(?:bladder|peeing|pee|wee|urine|waterworks)",
            r"(?:cannot|could not|can barely|do not|did not|no longer|(?:do not|does not|did not) (?:seem to )?be able to|not able to) "
            r"(?:feel|tell|notice|know|sense) "
            r"(?:when|if) (?:i|he|she|my bladder|his bladder|her bladder) (?:\w+ ){0,3}?"
            r"(?:pee|wee|peeing|weeing|urinat\w*|full|empty|go to the (?:toilet|loo))",
            r"(?:cannot|could not) feel (?:myself|himself|herself|the urine|the pee|the wee) "
            r"(?:pee|peeing|wee|weeing|going|pass)",
            r"(?:need\w*|wearing|wear|using|had to (?:use|wear)|buy\w*) (?:incontinence )?pads",
            r"(?:nothing|little|not much|hardly anything|only a dribble) (?:comes|came|is coming) out",
            r"bladder (?:feels? )?(?:full|bursting) but",
            r"(?:have not|has not|not) (?:peed|weed|been able to (?:pee|wee)|passed (?:water|urine)|"
            r"had a (?:wee|pee)) (?:since|for|all)",
        ),
    ),
    Finding(
        "bedwetting",
        (r"(?:wet|wetting|wets) (?:the|my|his|her) bed|bed ?wetting",),
    ),
    Finding(
        "bowel",
        (
            r"(?:pooed|pooped|poo'd|pood|soiled|messed|shat|shit|pooped) (?:my|him|her|them)sel(?:f|ves)",
            r"(?:bowel|faecal|fecal) incontinen\w*",
            r"(?:lost|lose|losing|loss of|no|without|not in) control (?:of|over) (?:my |his |her )?"
            r"(?:bowels?|pooing|poo)",
            r"(?:cannot|could not|unable to|not able to) (?:hold|control|stop) (?:it in|my bowels?|his bowels?|"
            r"her bowels?|(?:a |my |the )?poo\w*|bowel movements?)",
            r"(?:did not|do not|does not|no longer|cannot|could not) (?:notice|realise|realize|feel|tell|know) "
            r"(?:when |that |if )?(?:i|he|she) (?:had |have |has |would |was |need |needed |am )?"
            r"(?:gone|go|pooed|pooped|to go|to poo|going|needing to poo)",
            r"(?:leak\w*|seep\w*) (?:\w+ ){0,2}?(?:from|out of) (?:my|his|her) (?:bottom|back passage|bum|anus)",
            r"(?:cannot|could not) feel (?:when )?(?:i|he|she)? ?(?:poo|am pooing|pass (?:a )?(?:stool|motion))",
        ),
    ),
    Finding(
        "both_legs",
        (
            r"(?:both (?:of )?(?:my |his |her |the )?legs|both (?:my |his |her )?(?:thighs|feet)|"
            r"(?<!between )(?:my|his|her|the) legs|(?<!restless )(?<!between my )(?<!between his )(?<!between her )"
            r"(?<!between the )legs|two legs|both sides)" + SHORT_GAP + _NEURO_STRONG,
            _NEURO_STRONG + SHORT_GAP + r"(?:both (?:of )?(?:my |his |her |the )?legs|(?<!between )(?:my|his|her) legs|"
            r"(?:in|down|of) (?:the )?legs|both sides)",
            r"both (?:of )?(?:my |his |her |the )?legs" + SHORT_GAP + _NEURO_BOTH_ONLY,
            _NEURO_BOTH_ONLY + SHORT_GAP + r"(?:both (?:of )?(?:my |his |her |the )?legs|both sides)",
            r"(?:sciatica|sciatic pain) (?:on|in|down|going down) both",
            r"bilateral (?:sciatica|leg)",
        ),
        SYMPTOM | {"positional", "exertion"},
    ),
    Finding(
        "erection",
        (
            r"(?:cannot|could not|unable to|not able to|struggl\w* to|trouble|problems?|difficulty|no longer)\s+"
            r"(?:\w+\s+){0,2}?(?:get|getting|keep|keeping|maintain\w*|have|having|get it) "
            r"(?:an? )?(?:erection|hard|it up|stiffy|boner)",
            r"erectile (?:dysfunction|problems?|issues?)",
            r"(?:cannot|could not|unable to) (?:ejaculate|orgasm|climax)",
        ),
    ),
    # ---- trauma / fracture -------------------------------------------------------------
    Finding(
        "major_trauma",
        (
            r"(?:car|road|traffic|motorway|motorbike|motorcycle|bus|lorry|truck|van|ski\w*|rugby|horse|"
            r"riding|high-speed|head-on) (?:crash|accident|collision|smash|pile-?up|fall)",
            r"(?:crash\w*|rolled|wrote off|written off|totalled|totaled) (?:my|the|his|her|our) "
            r"(?:car|motorbike|motorcycle|van)",
            r"\brt[ac]\b|\bmva\b|\bpile-?up\b|whiplash|was written off|car was written off|rear[- ]ended|"
            r"(?:at|doing) (?:about |around |maybe )?[3-9]\d ?mph",
            r"(?:hit|knocked (?:down|over)|run over) by (?:a|the) (?:car|van|bus|lorry|truck|motorbike)",
            r"(?:fell|fall|fallen|falling|came|come|thrown|jumped|slipped) (?:off|from|out of|down) "
            r"(?:a |the |my |his |her |our )?(?:\w+ )?(?:ladder|roof|scaffold\w*|horse|balcony|tree|"
            r"cliff|height|loft|window|stairs|flight of stairs|motorbike|motorcycle|trampoline|wall)",
            r"fall from (?:a )?height",
            r"(?:\d+|two|three|four|five|six|ten|twenty) ?(?:metres?|meters?|m|feet|ft|foot)\b "
            r"(?:\w+ ){0,3}?(?:fall|drop|onto|on to)",
            r"(?:fell|fall|dropped) (?:\w+ ){0,3}?(?:\d+|two|three|four|five|six|ten|twenty) ?"
            r"(?:metres?|meters?|m|feet|ft)\b",
            r"(?:serious|major|big|bad|high-speed) (?:car )?(?:accident|crash|collision)",
        ),
        # only clearly remote accidents are cancelled ("years ago"), not "last week"
        frozenset({"negation", "hypothetical", "info", "remote_past"}),
    ),
    Finding(
        "fall_cannot_get_up",
        (
            r"(?:fell|fall|fallen|slipped|tripped|collapsed)\b[^.!?;\n]{0,60}?(?:cannot|could not|"
            r"unable to|not able to|can barely) (?:get up|stand|walk|bear weight|get off the floor|"
            r"move (?:my|his|her) legs)",
            r"(?:cannot|could not|unable to|not able to) (?:get up|stand up|get off the floor)"
            r"[^.!?;\n]{0,30}?(?:since|after) (?:i|he|she) (?:fell|slipped|tripped|had a fall)",
        ),
    ),
    # ---- heart, aorta ------------------------------------------------------------------
    Finding(
        "chest_pain",
        (
            r"chest (?:pains?|tight\w*|pressure|heaviness|discomfort|hurts?|hurting|aches?|aching|"
            r"(?:is|feels?) (?:tight|heavy|crushed|like)|is hurting|is sore)",
            r"(?:pain|pains|pressure|tightness|heaviness|crushing|squeezing|ache) (?:in|across|on|around) "
            r"(?:my|his|her|the|your) chest",
            r"crushing (?:pain|feeling|chest|weight)",
            r"(?:pain|ache|tightness|pressure)[^.!?;\n]{0,40}?(?:spread\w*|going|radiat\w*|moving|shoot\w*|"
            r"travel\w*)(?: \w+){0,2}? (?:to|into|up|down) (?:my|his|her|the) (?:left arm|jaw|chest)",
            r"(?:tearing|ripping) (?:pain|sensation|feeling)",
            r"(?:having|have|had|think (?:i am|he is|she is) having) a heart attack",
        ),
    ),
    Finding(
        "severe_tummy_pain",
        (
            r"(?:sudden\w*|severe|agoni\w*|excruciating|unbearable|terrible|worst|tearing|ripping)"
            r"[^.!?;\n]{0,50}?(?:tummy|stomach|abdom\w*|belly)",
            r"(?:tummy|stomach|abdom\w*|belly)[^.!?;\n]{0,30}?(?:sudden\w*|severe|agony|excruciating)",
        ),
    ),
    Finding(
        "collapse_signs",
        (
            r"dizz\w*|faint\w*|light-?headed|clammy|\bpale\b|collaps\w*|passed out|pass(?:ing)? out|"
            r"blacked out|black out|heart (?:is )?racing|racing heart|pounding heart|breathless|"
            r"(?:cannot|could not) (?:catch my )?breathe?|short of breath",
        ),
    ),
    Finding(
        "pulsing_tummy",
        (
            r"(?:puls\w*|throbb\w*|beating|heartbeat)\s+(?:\w+\s+){0,3}?(?:in|on) (?:my|his|her|the) "
            r"(?:tummy|stomach|belly|abdomen)",
            r"(?:tummy|stomach|belly|abdomen) (?:is |keeps )?(?:puls\w*|throbb\w*)",
            r"(?:i have|diagnosed with|known|my) (?:an? )?(?:aortic |abdominal )?aneurysm|\btriple a\b|\baaa\b",
        ),
        SYMPTOM | {"experiencer"},
    ),
    # ---- cancer -------------------------------------------------------------------------
    Finding(
        "cancer",
        (
            r"(?:cancer|tumou?rs?|myeloma|lymphoma|leuk\w*mia|melanoma|sarcoma|carcinoma|"
            r"secondaries|metasta\w*|oncologist|in remission|cancer survivor)",
            r"(?:on|having|had|finished|started|after|doing) (?:\w+ )?(?:chemo\w*|radiotherapy|radiation therapy)",
        ),
        HISTORY,
    ),
    Finding(
        "leg_neuro",
        (
            r"(?:leg|legs|foot|feet)" + SHORT_GAP + r"(?:weak\w*|numb\w*|heavy|giv\w* way|gave way|dead|"
            r"like jelly|buckl\w*)",
            r"(?:weak\w*|numb\w*|heaviness|no feeling) " + SHORT_GAP + r"(?:leg|legs|foot|feet)",
            r"(?:cannot|could not|struggl\w* to|difficulty|trouble|hard to|can barely) (?:walk|walking|stand|standing)",
        ),
        SYMPTOM | {"positional", "exertion"},
    ),
    # ---- infection ----------------------------------------------------------------------
    Finding("fever", (_FEVER,)),
    Finding(
        "painful_pee",
        (
            r"(?:sting\w*|burn\w*|hurts?|painful|pain|agony|sore) (?:\w+ ){0,2}?(?:when|while|if|as|after) "
            r"(?:i|he|she) (?:pee|wee|urinat\w*|go to the (?:toilet|loo)|go for a (?:wee|pee))",
            r"(?:painful|burning|stinging) (?:pee|peeing|wee|weeing|urination)",
            r"(?:pee|wee|urine|peeing|weeing) (?:\w+ ){0,2}?(?:stings|burns|hurts|is painful|burning|stinging)",
            r"cystitis|\butis?\b|urine infection|water infection|kidney infection|pyelonephritis|"
            r"(?:smelly|cloudy) (?:pee|wee|urine)|blood in (?:my|his|her|the) (?:pee|wee|urine)",
        ),
    ),
    Finding(
        "side_pain",
        (
            PAIN_WORD + r" (?:\w+ ){0,3}?(?:in|down|on) (?:my|his|her|the) (?:left |right )?(?:side|flank|loin|kidneys?)",
            r"(?:side|flank|loin|kidney) (?:pain|ache|is (?:sore|painful|killing))",
        ),
    ),
    Finding(
        "immune_risk",
        (
            r"inject(?:ing|s|ed)? (?:drugs|heroin|crack|speed|meth\w*|myself|gear)|\b(?:i|he|she) injects?\b|"
            r"\biv drugs?\b|intravenous drug|heroin|shoot(?:ing)? up|\bpwid\b",
            r"\bhiv\b|\baids\b|immunosuppress\w*|immune system (?:is )?(?:weak|low|suppressed|compromised)|"
            r"weak(?:ened)? immune|immunocompromised|(?:kidney|liver|heart|organ) transplant|biologics?|"
            r"methotrexate|chemo\w*",
        ),
        HISTORY,
    ),
    Finding(
        "spinal_procedure",
        (
            r"epidural|spinal injection|steroid injection|nerve (?:root )?block|facet (?:joint )?injection|"
            r"lumbar puncture|spinal tap|(?:back|spinal|spine|disc) (?:surgery|operation|op)|spinal fusion|"
            r"operation on (?:my|his|her) (?:back|spine)|discectomy|laminectomy|microdiscectomy|"
            r"decompression surgery|fusion surgery|kyphoplasty|vertebroplasty|injection (?:in|into) "
            r"(?:my|his|her) (?:back|spine)",
        ),
        frozenset({"negation", "hypothetical", "info", "remote_past", "experiencer"}),
    ),
    Finding(
        "wound_signs",
        (
            r"(?:wound|scar|incision|stitches|injection site) (?:\w+ ){0,3}?(?:red|hot|swollen|ooz\w*|"
            r"weep\w*|leak\w*|pus|smell\w*|opening|opened|infected)",
        ),
    ),
    # ---- fracture risk -------------------------------------------------------------------
    Finding(
        "fragility_risk",
        (
            r"osteoporo\w*|osteopenia|thin(?:ning)? bones|brittle bones|bones are (?:thin|brittle|weak)",
            r"(?:on|taking|take|taken|been on|long[- ]term) (?:\w+ ){0,2}?(?:oral )?(?:steroids|steroid tablets|"
            r"prednisolone|prednisone|dexamethasone|pred)\b",
            r"(?:prednisolone|prednisone|steroids|steroid tablets) (?:\w+ ){0,3}?(?:for (?:years|months|ages)|"
            r"long[- ]term|every day|daily)",
        ),
        HISTORY,
    ),
    Finding(
        "minor_trigger",
        (
            r"\b(?:fell|fall|fallen|slipped|slip|tripped|trip|stumbled|sat down (?:hard|heavily)|"
            r"cough\w*|sneez\w*|lift\w*|bent|bending|twisted|crack\w*|snap\w*|popped|sudden\w*|out of nowhere)",
        ),
        CONTEXT,
    ),
    # ---- other NHS "urgent" items -----------------------------------------------------------
    Finding(
        "weight_loss",
        (
            r"(?:lost|losing|loosing|dropped|dropping|shed|shedding)\s+(?:\w+\s+){0,3}?"
            r"(?:weight|\d+\s*(?:kg|kilos?|pounds|lbs?|stone|st)\b|(?:a|one|two|half a) stone|"
            r"a (?:lot|load|ton) of weight)",
            r"weight (?:loss|has (?:dropped|fallen|gone down)|is (?:dropping|falling off)|keeps dropping|"
            r"falling off)",
            r"(?:clothes|trousers|jeans|belt|rings?) (?:\w+ ){0,3}?(?:loose|looser|baggy|falling off|hanging off)",
            r"(?:getting|got|become|gone|look\w*) (?:really |very |so )?(?:thin|skinny|gaunt)",
        ),
        SYMPTOM | {"intended"},
    ),
    Finding(
        "night_pain",
        (
            r"(?:worse|bad|worst|agony|unbearable|terrible|awful|horrendous) (?:\w+ ){0,2}?(?:at|in the|during the|"
            r"through the) night",
            r"(?:keeps?|kept|keeping) (?:me|him|her) (?:up|awake) (?:at night|every night|all night|most nights)",
            r"(?:wakes?|waking|woken|woke) (?:me|him|her) (?:up )?(?:every night|at night|in the night|"
            r"through the night|every hour|most nights|nightly)",
            r"night ?time pain|night pain|pain at night",
            r"(?:not|never|does not|did not|will not) (?:\w+ ){0,1}?(?:ease|eased|easing|improve\w*|better|"
            r"settle|go away|get better)\w* (?:\w+ ){0,2}?(?:with|when|after|by|even with|even when|even after) "
            r"(?:i |he |she )?(?:rest|resting|lying|lie|sleep|sleeping)",
            r"(?:rest|resting|lying down|lying still) (?:does not|doesn't|never|will not) (?:help|ease|improve)",
            r"(?:hurts?|pain|worse|agony)\w* (?:\w+ ){0,3}?(?:at rest|even when (?:i am )?resting|"
            r"when (?:i am )?lying still)",
            r"(?:whatever|any|every|no matter what) position",
            r"no position (?:helps|eases|is comfortable)",
        ),
        SYMPTOM | {"mechanical"},
    ),
    Finding(
        "lump_or_shape",
        (
            r"(?:lump|swelling|bump|mass|growth|hard knot)\s+(?:\w+\s+){0,3}?(?:on|in|near|at|by|over|along) "
            r"(?:(?:the )?(?:\w+ ){0,2}?of )?(?:my|his|her|the) (?:\w+ )?(?:back|spine|tailbone|vertebra\w*)",
            r"(?:back|spine) (?:has |have |is |looks? |seems )?(?:\w+ )?(?:changed shape|changing shape|"
            r"a different shape|bent over|crooked|curving|hunched)",
            r"(?:hump|bulge) (?:has )?(?:appeared|developed|come up)",
        ),
        SYMPTOM | {"experiencer"},
    ),
    Finding(
        "thoracic_pain",
        (
            r"between (?:my|his|her|the) (?:shoulder ?blades?|shoulders)",
            r"(?:middle|mid|top) (?:part )?of (?:my|his|her|the) (?:back|spine)",
            r"(?:thoracic|mid[- ]back|middle back) (?:pain|spine)",
        ),
        SYMPTOM | {"needs_pain_word"},
    ),
    Finding(
        "foot_drop",
        (
            r"foot (?:is |keeps |has started |started |kept )?(?:slapping|slaps|flopping|flops|dragging|drags|"
            r"dropping|drops|catching)",
            r"(?:cannot|could not|unable to|not able to|struggl\w* to|hard to|can barely|no longer able to) "
            r"(?:lift|raise|pick up|flex|pull up) (?:the front of )?(?:my|his|her) (?:toes|foot|big toe|ankle)",
            r"foot ?drop|drop ?foot",
            r"(?:tripping|catching|stumbling|tripped) (?:over|on) (?:my|his|her) (?:own )?(?:left |right )?(?:foot|feet|toes)",
            r"(?:cannot|could not|unable to|not able to) (?:stand|walk) on (?:my|his|her) (?:heels?|toes|tiptoes?)",
        ),
    ),
    Finding(
        "leg_getting_weaker",
        (
            r"(?:leg|foot|ankle|knee)\s+(?:\w+\s+){0,3}?(?:getting|growing|becoming|gone|going|gets|got|has got) "
            r"(?:weaker|weak|numb\w*|dead|worse and worse)",
            r"weaker (?:and weaker|every day|by the day|each day|day by day)",
            r"(?:leg|knee) (?:keeps |kept |is |has started )?(?:giving way|gives way|gave way|buckling|buckles|"
            r"collapsing)",
            r"lost (?:the |all |some )?(?:strength|power) in (?:my|his|her) (?:left |right )?(?:leg|foot|ankle)",
            r"(?:weakness|weak) in (?:my|his|her) (?:left |right )?(?:leg|foot|ankle)",
            r"(?:left|right|one) leg (?:is |feels |has gone |went )?(?:weak|dead|floppy)",
        ),
        SYMPTOM | {"exertion"},
    ),
    Finding(
        "pregnant",
        (
            r"pregnan\w*|\d+ ?weeks? (?:pregnant|gone)|expecting (?:a baby|twins)|\bmy bump\b|trimester|"
            r"\bmidwife\b|due date",
        ),
        frozenset({"negation", "hypothetical", "info", "past"}),
    ),
    Finding(
        "pregnancy_warning",
        (
            r"bleed\w*|spotting|contraction\w*|(?:pains?|cramps?|tightenings?) (?:that )?(?:come|coming|comes) "
            r"(?:and go|in waves|every)|every \d+ ?(?:minutes|mins)|in waves|waters? (?:has |have )?"
            r"(?:broken|broke|gone|leaking)|(?:fluid|liquid|water) (?:is )?(?:leaking|gushing)|"
            r"baby (?:is )?(?:not )?moving less|reduced movements",
        ),
    ),
    # ---- mental-health crisis -------------------------------------------------------------
    Finding(
        "crisis",
        (
            r"(?:kill|killing|hurt|hurting|harm|harming|top|topping) (?:my ?self|him ?self|her ?self)",
            r"suicid\w*\b(?! (?:squats?|sprints?|runs?|drills?|shuttles?|crunch\w*|doors?|burpees?))",
            r"(?:end|ending|take|taking) (?:my|his|her) (?:own )?life",
            r"end it all|end it\b(?! (?:with|by|there|now with))|end things|finish it all",
            r"(?:want|wanting|wants|wish|wishing|wanna|going) (?:\w+ ){0,2}?to die\b"
            r"(?! (?:laughing|of (?:embarrassment|shame|boredom)))",
            r"wish (?:i|he|she) (?:was|were) dead|wish (?:i|he|she) (?:was|were) (?:not|never) (?:here|born)",
            r"better off (?:dead|without me|without him|without her|gone|if (?:i|he|she) (?:was|were) "
            r"(?:gone|dead|not here|not around|not alive))",
            r"(?:do not|does not) want to (?:be here|live|wake up|exist|go on|carry on)",
            r"(?:cannot|could not|can not) (?:go on|carry on|keep going|do this)"
            r"(?= *(?:like this|any ?more|much longer|living|with (?:life|it all|this|the pain)|$|[.!?,;]))",
            r"no (?:reason|point) (?:to|in) (?:live|living|go on|going on|carry on|carrying on|being here)",
            r"not worth living|life is not worth|(?:overdose|od) on purpose|"
            r"(?:take|taking) all (?:of )?(?:my|the|his|her) (?:\w+ )?(?:pills|tablets|meds|medication)",
            r"(?:thinking|thought|thoughts) (?:of|about) (?:ending|killing|suicide|taking (?:my|his|her) (?:own )?life|dying)",
        ),
        frozenset({"negation", "info"}),
    ),
    # ---- contexts (only negation applies) ---------------------------------------------------
    Finding(
        "back",
        (
            r"(?:my|his|her|their|your|the|lower|upper|low|mid|middle|bad|sore|stiff|painful|achy|injured|"
            r"whole|put|hurt|pulled|did|done|strained|twisted) back\b(?! (?:tooth|teeth|leg|legs|paws?|pocket|"
            r"garden|door|seat|row|yard|of\b|up\b|home|then|in the day|to\b|and forth|on\b|into|from))",
            r"\bback (?:pain|ache|aches|injury|problems?|spasms?|is|has|went|gone|hurts?|hurting|'s|was|"
            r"muscles?|issues?|trouble)\b",
            r"backache|back-ache|spine|spinal|lumbar|sciatic\w*|\bdiscs?\b|tailbone|coccyx|sacroiliac|\bsi joint|"
            r"vertebra\w*|lumbago|\bslipped disc|\bbulging disc",
        ),
        CONTEXT,
    ),
    Finding(
        "body_pain",
        (
            r"\bneck\b|\bback\b|spine|" + PAIN_WORD + r"|injur\w*|bruis\w*|broken|fracture\w*|"
            r"(?:cannot|could not|can barely) (?:move|walk|stand|feel)",
        ),
        CONTEXT,
    ),
    Finding(
        "pain_word",
        (PAIN_WORD,),
        CONTEXT,
    ),
)


# --------------------------------------------------------------------------------------
# Rules: which findings together raise which level
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A red flag: fires when every finding in ``all_of`` and at least one of ``any_of`` is present."""

    id: str
    level: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...] = ()


EMERGENCY = "emergency"
URGENT = "urgent"

RULES: tuple[Rule, ...] = (
    Rule("crisis", EMERGENCY, ("crisis",)),
    Rule("saddle_numbness", EMERGENCY, ("saddle_numb",)),
    Rule("bladder_problem", EMERGENCY, ("bladder",)),
    Rule("bladder_problem", EMERGENCY, ("bedwetting", "back")),
    Rule("bowel_incontinence", EMERGENCY, ("bowel",)),
    Rule("both_legs", EMERGENCY, ("both_legs",)),
    Rule("sexual_dysfunction", EMERGENCY, ("erection", "back")),
    Rule("major_trauma", EMERGENCY, ("major_trauma", "body_pain")),
    Rule("fall_cannot_get_up", EMERGENCY, ("fall_cannot_get_up",)),
    Rule("chest_pain", EMERGENCY, ("chest_pain",)),
    Rule("burst_aneurysm", EMERGENCY, ("severe_tummy_pain", "collapse_signs")),
    Rule("cancer_with_nerve_symptoms", EMERGENCY, ("cancer", "leg_neuro")),
    Rule("kidney_infection", URGENT, ("fever", "painful_pee"), ("back", "side_pain")),
    Rule("infection_risk", URGENT, ("immune_risk", "fever"), ("back", "side_pain")),
    Rule("recent_spinal_procedure", URGENT, ("spinal_procedure",), ("fever", "wound_signs")),
    Rule("fever_with_back_pain", URGENT, ("fever", "back")),
    Rule("cancer_history", URGENT, ("cancer", "back")),
    Rule("fragility_fracture", URGENT, ("fragility_risk", "minor_trigger", "back")),
    Rule("foot_drop", URGENT, ("foot_drop",)),
    Rule("leg_getting_weaker", URGENT, ("leg_getting_weaker",)),
    Rule("weight_loss", URGENT, ("weight_loss", "back")),
    Rule("night_pain", URGENT, ("night_pain", "back")),
    Rule("lump_or_shape_change", URGENT, ("lump_or_shape",)),
    Rule("thoracic_pain", URGENT, ("thoracic_pain",)),
    Rule("pregnancy_warning", URGENT, ("pregnant",), ("pregnancy_warning", "fever", "painful_pee")),
    Rule("pulsing_tummy", URGENT, ("pulsing_tummy",)),
)

# --------------------------------------------------------------------------------------
# Topic detectors that are not red flags
# --------------------------------------------------------------------------------------

DOSE_CUE = (
    r"(?:how (?:much|many|often|frequently)|what (?:dose|dosage|strength|amount|mg)|\bmax\w*|at once|"
    r"at a time|(?:at )?the same time|together|too (?:much|many)|overdos\w*|strength|"
    r"\d+\s*(?:mg|milligrams?|mcg|ml|g)\b|every \d+ ?(?:hours|hrs|h)\b|(?:times|x) (?:a|per) day|per day|"
    r"a day\b|in a day|in 24 hours|double (?:up|dose|the dose)|extra (?:dose|tablet|pill)|"
    r"more than (?:\d+|one|two|three|four|the)|safe (?:amount|dose|limit)|(?:right|correct|usual|normal|"
    r"recommended|daily|higher|lower|starting|adult|child'?s?|children'?s) dose|\bdosage|\bdosing|\bdoses?\b|"
    r"exceed|in one go|how long (?:can|should|could|is it safe to|is it ok to) (?:i|you|he|she|we)? ?"
    r"(?:take|use|keep taking|keep using|be on|stay on|give))"
)

DOSING_PATTERNS: tuple[str, ...] = (
    # a dose / amount / frequency / strength cue in the same sentence as a medicine
    DRUG + r"[^.!?\n]{0,60}?" + DOSE_CUE,
    DOSE_CUE + r"[^.!?\n]{0,60}?" + DRUG,
    # combinations: "take X with Y", "give X and Y", alcohol
    r"(?:take|taking|have|having|give|giving|use|using|mix|mixing|combine|combining|alternate|alternating)"
    r"\b[^.!?\n]{0,50}?" + DRUG + r"[^.!?\n]{0,30}?(?:\bwith|\band|\bplus|alongside|on top of)\s+"
    r"(?:my |the |some |a |an |his |her |their )?(?:\w+ ){0,2}?" + DRUG,
    DRUG + r"[^.!?\n]{0,40}?(?:with|and|while|on) (?:\w+ ){0,3}?(?:alcohol|drinks?|drinking|beers?|wine|pints?|booze|lager)",
    r"how much (?:\w+ ){0,3}?(?:should|can|could|do|may) (?:i|you|he|she|we|they) (?:take|give|have|use)\b",
    r"(?:alcohol|drink|drinking|beer|wine|a pint|booze)[^.!?\n]{0,30}?(?:with|while on|on|while taking|and) "
    + DRUG,
)

SAFETY_NET_PATTERNS: tuple[str, ...] = (
    r"sciatic\w*|trapped nerve|pinched nerve|nerve pain|nerve root|radiculopathy|slipped discs?|"
    r"herniat\w*|prolaps\w* discs?|disc prolaps\w*|bulg\w* discs?|disc bulge|disc herniation|"
    r"cauda equina|\bces\b|spinal stenosis|piriformis|nerve (?:is |being )?(?:trapped|pinched|compressed)|"
    r"discs? (?:has |have |had )?(?:slipped|herniated|prolapsed|bulging|gone)",
    r"(?:pain|tingl\w*|numb\w*|pins and needles|shooting|burning|electric\w*|zing\w*)[^.!?;\n]{0,40}?"
    r"(?:down|into|through|along|in) (?:the back of )?(?:my|his|her|the|your|one|both)? ?"
    r"(?:left |right |whole )?(?:leg|legs|calf|calves|foot|feet|thigh|thighs|shin|toes?|buttock|hamstring)",
    r"(?:leg|legs|calf|thigh|buttock|foot) (?:is |are |keeps |has been )?(?:pain|tingl\w*|numb\w*|"
    r"going numb|burning)",
)
