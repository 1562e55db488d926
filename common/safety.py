"""The emergency safety net (pure): does a message signal a medical emergency?

Used in two places, so that no state of the conversation can swallow an emergency:
- the NLU pipeline (`nlu_components/safety.py`) turns such a message into the `emergency` intent whatever
  the classifier thought and however confident it was;
- the connector's secret redaction (`sessions/redaction.py`) never keeps such a message as a code, a
  password or a note, so it reaches Rasa and is answered.

Keyword patterns, not a model: a miss here can cost a life, so the net is deliberately wide and is measured on
a test set of emergency phrasings and everyday look-alikes written apart from it
(`tests/fixtures/safety/emergency_eval.yml`). English, Hinglish and Manglish in Latin letters, Hindi in
Devanagari and Malayalam in its own script.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width joiners and the like (Malayalam and Hindi keyboards insert them) and the old Malayalam
# chillu spellings (consonant + virama + ZWJ) folded to the atomic chillu letters.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_OLD_CHILLU = {
    "\u0d23\u0d4d\u200d": "\u0d7a",
    "\u0d28\u0d4d\u200d": "\u0d7b",
    "\u0d30\u0d4d\u200d": "\u0d7c",
    "\u0d32\u0d4d\u200d": "\u0d7d",
    "\u0d33\u0d4d\u200d": "\u0d7e",
    "\u0d15\u0d4d\u200d": "\u0d7f",
}
MAX_CHECKED_CHARS = 1000  # a long message is read at its start and its end only (the cost stays bounded)


_REPEATED_MARK = re.compile(r"([^\w\s])\1+")


def normalise(text: str) -> str:
    """NFC, old chillu forms folded, invisible joiners dropped, lower case, single spaces."""
    text = unicodedata.normalize("NFC", text or "")[:MAX_CHECKED_CHARS]
    for old, new in _OLD_CHILLU.items():
        text = text.replace(old, new)
    text = text.translate(_INVISIBLE).lower()
    text = _REPEATED_MARK.sub(r"\1", text)  # "!!!!!!" is read as "!" (and costs as little)
    return re.sub(r"\s+", " ", text).strip()


def _indic(*literals: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(normalise(literal)) for literal in literals))


_B = r"(?<![a-z0-9])"  # start of a Latin word (a number inside a code or a phone number is no word)


def _words(*patterns: str) -> re.Pattern[str]:
    """Latin patterns, each starting at a word: the start is tested once, outside the alternation, so the
    engine gives up at once inside a word instead of trying every pattern there (4x faster on these lists).
    (Indic scripts have no word boundary between letters and marks: `_indic` matches substrings.)"""
    body = "|".join(p[len(_B) :] if p.startswith(_B) else p for p in patterns)
    return re.compile(_B + "(?:" + body + ")")


_E = r"(?![a-z0-9])"  # end of a Latin word

# Suicide and self-harm, direct and indirect: part of the net, and told apart for the helpline.
_SELF_HARM_LATIN = (
    _B + r"(suicide|suicidal|sucide|suicde|kill (my ?self|myself)|killing (my ?self|myself)|end (my|his|her) life|"
    r"ending (my|his|her) life|take (my|his|her) (own )?life|self[- ]?harm|harm (my ?self|myself)|"
    r"hurt (my ?self|myself)|"
    r"cut (my ?self|myself)|cut (my|his|her) (wrist|wrists|vein|veins|hand)|ending it all|end it all|"
    r"kill (him|her|them)sel(f|ves)|killing (him|her|them)self|cutting (my ?self|myself)|hang (my ?self|myself)|"
    r"hanging (my ?self|myself))",
    _B + r"(don'?t|do not|dont|no longer|not)\s+(want|wanna)\s+(to\s+)?(live|be alive|exist)" + _E,
    _B + r"(want|wanna|going|planning)\s+(to\s+)?die" + _E,
    _B + r"(no (reason|point) (to|in) (live|living)|better off dead|wish i (was|were) dead|"
    r"ending everything|end everything|(what'?s|what is) the point of (anything|living|life)|rope ready|"
    r"nobody will (even )?(notice|miss)|(is|the) last time (he|she|i) (message|messages|text)" + _E + "|"
    r"tired of (everything|life|living)|standing on (the )?\w+ (bridge|roof|terrace)|"
    r"sab khatam karna|khud ko khatam|apne aap ko khatam|zindagi khatam|koi pareshan nahi|nahi jeena|"
    r"written (a |my )?(last )?letters? (for|to) my|goodbye letter|suicide note|goodbye (msgs|messages|msg|message)|"
    r"last time (u|you) will (hear|see)|(tell|say) (my )?(mom|mum|mother|dad|amma|wife|husband) (i'?m|im|i am) sorry|"
    r"locked (himself|herself|his room|her room|the door)|giving away (all )?(his|her|my) things|"
    r"(this is|it'?s) my last (msg|message)|goodbye (everyone|all|every ?body)|thanks for everything|stopped replying|"
    r"(tell|say) my \w+ (i'?m |im |i am )?sorry|wont be needing|won'?t be needing|"
    r"before i go|(sabko|sab ko) alvida|kabhi nahi milenge|vaathil adachu|ketti thookk\w*|thookk\w* (nokki|shramichu)|"
    r"(hang|hanged|hanging) (from|with)|tried to hang|rope (around|on) (his|her) neck)",
    _B + r"(ellam|ellaam) (avasanippikk\w*|nirth\w*)|jeevikkan thonunnilla|jeevikkan (thonnunnilla|ishtamilla)",
    _B + r"(jeena nahi|jina nahi|mar jaana|mar jana|mar jaunga|mar jaungi|khudkushi|aatmahatya|atmahatya|"
    r"jeevikkan vayya|jeevikkanda|jeevikkan ishtamilla|maricha mathi|marikkanam|aathmahathya|athmahathya|"
    r"chathal mathi)",
)
_SELF_HARM_INDIC = (
    "आत्महत्या",
    "खुदकुशी",
    "ख़ुदकुशी",
    "जीना नहीं",
    "नहीं जीना",
    "जान देना",
    "जान दे दूंगा",
    "मर जाना",
    "मरना चाहत",
    "ആത്മഹത്യ",
    "മരിക്കണം",
    "ജീവിക്കാൻ വയ്യ",
    "ജീവിക്കണ്ട",
    "മരിക്കാൻ പോകുന്നു",
)

# English (with the usual phone spellings), Hinglish and Manglish in Latin letters.
_LATIN = _words(
    # asking for help itself
    _B + r"(ambulance|ambulence|ambulanse|ambulans|amblance|embulance|ambulnce)" + _E,
    # 108 and 112 said on their own or with a call, never as a room, a price or part of a code
    r"^(108|112|sos)[ !.]*$|"
    + _B
    + r"(call|dial|ring|phone)\s+(108|112)"
    + _E
    + "|"
    + _B
    + r"(108|112)\s+(ambulance|now|pls|please|fast)",
    _B + r"(emergency|emergancy|emergensy|emergncy|emrgency|emergecy)" + _E + "|(?<![a-z0-9@#._])sos(?![a-z0-9@#._])",
    _B + r"(urgent|urgently|immediate|asap)\s+(help|doctor|care)" + _E,
    _B + r"(help|save)\s+(me|him|her|us|my\s+\w+)\s*(please|pls|plz)?\s*(!|fast|quick|now|urgent)",
    _B + r"(call|send|need|want)\s+(an?\s+)?(doctor|ambulance)\s+(now|fast|quick|immediately|urgently|asap)",
    _B + r"(very|v|too|critical(ly)?|extremely)\s+(serious|critical)|come (fast|quick|quickly|soon)|"
    r"serious condition|critical condition",
    _B + r"(dying|about to die|going to die|gonna die|will die)" + _E,
    # heart
    _B + r"(heart\s*attack|cardiac\s*arrest|heart\s*stopped|heart\s*failure\s+now)" + _E,
    _B + r"(chest|chst|chet|chets|cheast|heart)\s*(pain|pains|paining|ache|hurts?|hurting|tight(ness)?|pressure|dard|"
    r"vedana|vedhana|pidutham)",
    _B + r"(pain|dard|vedana|vedhana)\s+(in|on)?\s*(my|his|her|the)?\s*(chest|left arm|jaw)",
    _B + r"(seene|sine|seeney|chhati|chaati|chati)\s+(me|mein|mai|main)?\s*(\w+\s+){0,3}(dard|pain|jalan)",
    _B + r"(chest|chst)\s+(\w+\s+){0,2}(heavy|heaviness|tight|tightness|pressure|squeez\w*|burning|crushing|"
    r"paining|pains|hurting)",
    _B + r"(weight|pressure|something|stone|elephant)\s+(\w+\s+){0,2}(pressing|sitting|squeezing)"
    r"\s+(\w+\s+){0,3}(chest|heart|on it)",
    _B + r"(holding|clutching|pressing) (\w+ ){0,3}(side of )?(his |her |the |my )?chest",
    _B + r"(left hand|left arm|left shoulder)\s+(\w+\s+){0,2}(pain\w*|numb)",
    _B + r"(pressure|heaviness|tightness|squeezing)\s+(in|on)\s+(my |his |her |the )?(chest|chst)",
    _B + r"(left arm|jaw)\s+(\w+\s+){0,2}(pain|paining|hurts?|numb)",
    _B + r"(clutching|holding|grabbing)\s+(his|her|my|the)\s+(chest|heart)|no pulse|"
    r"pulse (is )?(not there|gone|very weak)|"
    r"(pressing|pumping|doing cpr on)\s+(his|her|the)\s+chest|\bcpr\b|dropped (down|dead)|gone grey|grey and sweaty",
    _B + r"(nenju|nenjil|nenjinu|nenjath|nenjathu|nenchu|nenjil)\s*(vedana|vedhana|vetana|pain|dard|pidutham|kanam)",
    # breathing
    _B + r"(can'?t|cannot|cant|can not|unable to|not able to|difficulty|difficult|trouble|struggling to|hard to)"
    r"\s+(to\s+)?(breathe|breath|breathing)" + _E,
    _B
    + r"(not|isn'?t|is not|stopped|no|cant|can'?t)\s+(breathing|breathe|breathng|breating|brething|breth|breath)"
    + _E,
    _B + r"(throat|tongue|lips?|face)\s+(is\s+)?(\w+\s+)?(swelling|swollen|closing|puffed|puffy)|"
    r"(can'?t|cannot|cant)\s+swallow|allergic reaction|anaphyla\w*|throat (is )?(feeling |getting |becoming )?tight|"
    r"(whole|all over) body (itching|rash\w*|swelling)",
    _B + r"(breathless(ness)?|gasping|suffocat\w*|choking|choked|gurgl\w*|wheez\w*|breathing fast|"
    r"(is|went|gone|body|baby|child) (limp|floppy)|(limp|floppy) and (blue|cold)|turning blue|neela pad|ghurghur|"
    r"gala band|galaa band)" + _E,
    _B + r"(won'?t|wont|will not|isn'?t|is not|not) (respond\w*|wake\w*|moving)" + _E,
    _B + r"(short(ness)? of breath|breath(ing)? problem|breath(ing)? is (very )?(fast|heavy|difficult))",
    _B + r"(not able to|unable to|can'?t|cannot|cant) (take|catch|get) (a |his |her |my )?(breath|breathe)|"
    r"(lips|face|nails|skin) (are |is )?(becoming|turning|going|gone|looks?) (blue|bluish|purple|grey|gray)|"
    r"(bluish|blue colou?r)|can'?t (talk|speak) (in )?(a )?full sentences?|"
    r"(breath|breathing|saans|sans) (\w+ ){0,2}(stopping|rukk?)|"
    r"(asthma|inhaler|nebuli[sz]er|pump)\s+(\w+\s+)?(not working|no use|not helping)",
    _B + r"(saans|sans|saas|shwas|swas)\s+(atak|ukhad|nahi|nahin|nai|nhi|na|lene|rukk?|phool|ruk|band|ki\s+takleef|"
    r"mein\s+takleef)",
    _B + r"(swasam|shwasam|swaasam|shwaasam|swasa|shwasa)\s*(kittunnilla|kittunilla|kittanilla|illa|mutt\w*|vali\w*|"
    r"edukkan|edukkunnilla|edukunnilla|edukkanilla)",
    _B + r"(shwasam\s*mutt\w*|swasam\s*mutt\w*|swasamuttal|shwasamuttal)",
    # consciousness, collapse, fits
    _B + r"(unconscious|unconcious|unconsious|unconsciuos|unresponsive|not responding|no response|"
    r"passed out|pass(ed)? out|fainted|fainting|collapsed|collapse|blacked out|not waking|won'?t wake|"
    r"wont wake|can'?t wake|cant wake|not wakeing|doesn'?t wake|dont wake|didn'?t wake)" + _E,
    _B + r"(suddenly|sudden)\s+(\w+\s+){0,2}(confused|confusion|not recognising|not recognizing|drowsy|"
    r"can'?t see|blind|weak)|(very|too)\s+(drowsy|sleepy)\s+(after|now)|vomited\s+(twice|again|\d+ times)|"
    r"(hit|hurt|injured|banged)\s+(his|her|my|the)\s+head",
    _B + r"(fell|fallen|fall)\s+(down\s+)?(and|&)\s+(is\s+)?(not|isn'?t|unconscious|can'?t)",
    _B + r"(not|isn'?t|is not|no) (answering|responding|reacting|replying) (when|to) (we|us|i|me|his|her|calling|call)|"
    r"(vilichittu|vilichal) (mindunnilla|minDunnilla|vili kelkkunnilla)|very dull|"
    r"(suddenly|sudden) (\w+ ){0,2}(dropped|fell|collapsed)|not answering (me|us|properly)|breathing like snoring|"
    r"(grunting|grunt\w*) (sound|noise)|chest (is )?(going|sucking|pulling) in|(cold|limp) and (limp|cold|floppy)|"
    r"(not|nt) (brthng|breathng|breating)|(not|nt) (waking|wakng)|yellow all over|not sucking|"
    r"eyes (gone|going|rolled|rolling) (up|back)|kannu mukalil\w*|(shaking|jerking) (his |her |the )?(whole )?body|"
    r"(fell|slipped|fallen) (\w+ ){0,4}(fell )?on (his|her|the) head|"
    r"blood (coming )?from (the |his |her |my )?(ear|ears|nose)",
    _B + r"(seizure|seizures|convulsion|convulsions|convulsing|epileptic attack|having an? fits?|"
    r"(having|has|had|getting|got) fits|"
    r"fits (now|again|since|for|coming|vannu|aa|pad)|foaming (at|from) (the )?mouth|jerking)" + _E,
    _B + r"(daura|dora|doura)\s+(pad|pada|padh|aa)|jhatke|muh\s+(tedha|tedhi|tedi|terha)|"
    r"bol\s+(nahi|nahin|nhi)\s+(pa|paa|sak)|nigal\s+(liya|li|gaya|gayi)",
    _B + r"(mukham|mukh|mugham|vaya)\s+(kodi|kotti|kodiyi|chari|vakra)\w*|"
    r"samsarikkan\s+(pattunnilla|kazhiyunnilla|pattanilla)",
    _B + r"(behosh|behos|beihosh|behoshi|be hosh|hosh nahi|hosh nhi|hosh me nahi|gir gay[ei]|gir pad[ei])",
    _B + r"(bodham|boodham|bodhom|bhodham)\s*(illa|poyi|pooyi|kettu|ketu|nashtapettu|marayunnu|varunnilla)",
    _B + r"(thalarnnu veenu|thalarnu veenu|veenu bodham|apasmaram|fits vannu|fit vannu)",
    # bleeding, injury, burns, accident
    _B + r"(bleeding|bleed|blood)\s+(a lot|heavily|badly|too much|wont stop|won'?t stop|not stopping|"
    r"nonstop|non stop|profusely|everywhere|from (the )?(head|mouth|nose))",
    _B + r"(heavy|severe|lots of|lot of|too much|uncontrolled|non stop|nonstop)\s+bleeding" + _E,
    _B + r"(bleeding|blood)\s+(\w+\s+){0,4}(not stopping|won'?t stop|wont stop|since \w+ hours?|"
    r"from (one|1|two|2) hours?)|"
    r"(deep|big) (wound|cut)|(lot of|lots of|so much|too much) blood|finger (cut off|chopped)|cut off (his|her|my)|"
    r"(attacked|stabbed|hit) (\w+ ){0,3}with (a )?(knife|sword|rod|stick|axe)|(beat|beating|hit) me (and|,)|"
    r"head is bleeding|bleeding from (the )?head|"
    r"(towel|cloth|bed|floor) (is )?(full|soaked|covered)( of| with)? (red|blood)|"
    r"(bleeding|khoon|blood)\s+(\w+\s+){0,2}(ruk nahi|rukta nahi|band nahi)|"
    r"(bleeding|blood) (\w+ ){0,3}(nonstop|non stop)|"
    r"(acid) (thrown|threw|attack|fell|poured)|threw acid|(slapped|hit|beat|kicked) (\w+ ){0,3}(blood|bleeding)|"
    r"(cut off|chopped off|got cut) (\w+ ){0,5}(machine|cutter)|(finger|hand|leg|toe) (\w+ ){0,2}cut off",
    _B + r"(vomiting|vomited|coughing|cough(ing)? up|spitting|throwing up)\s+blood|blood (in|with) vomit|"
    r"(black|bloody) (stool|stools|motion|motions|potty)|khoon ki ul?ti|(pale|cold) (and|n|&) (cold|pale|sweaty)" + _E,
    _B + r"(khoon|khun)\s+(\w+\s+)?(beh|bah|nikal|aa raha|aa rha|ja raha|ruk nahi|band nahi)",
    _B
    + r"(pregnant|pregnancy|garbhini|garbhavathi)\b.{0,40}(bleeding|khoon|blood|fit|fits|seizure|severe|chora|raktham)",
    _B + r"(raktham|rektham|chora|blood)\s*(pokunnu|varunnu|pokunnu|nilkkunnilla|nikkunnilla|orupadu)",
    _B + r"(accident|accidant|axident|road accident|hit by a|run over|(truck|car|bus|bike|lorry|train) hit|"
    r"jumped (from|off)|fell (from|off|down) (the )?(stairs|terrace|roof|floor|\d\w* floor|building|tree|height|bike)|"
    r"bone (is )?(outside|sticking out|showing)|(cylinder|gas|bomb|boiler|cooker) blast|explosion|electric shock|"
    r"current (adichu|laga|lag gaya)|"
    r"electrocut\w*|drown\w*)" + _E,
    _B + r"(not able to|unable to|can'?t|cannot) (move|stand|get up)\s*(at all|now)?" + _E,
    _B + r"(severe|bad|badly|serious)\s+(burn|burns|burnt|burned)|burns? (on|all over)|"
    r"(hot oil|boiling water|acid) (fell|spilled|poured)|blisters|skin (is )?peeling" + _E,
    _B + r"((got|is|was|badly|severely|body|face|hand|child|baby) (burnt|burned)|caught fire|on fire|jal gay[ai]|"
    r"pollal|pollu)" + _E,
    _B + r"garam (pani|paani|tel|doodh) (gir|pad)\w*|chamdi (utar|nikal)|skin (came|coming|peeled) off|"
    r"(hot|boiling) (water|oil|milk|tea) (fell|spilled|poured) on",
    _B + r"(head injury|broken (neck|back)|stabbed|been stabbed|gunshot|been shot|shot (him|her|me))" + _E,
    # stroke
    _B + r"(stroke|paralysis|paralysed|paralyzed|lakwa|laqwa|pakshaghatham|paksha ghatham)" + _E,
    _B + r"(face|mouth|smile)\s+(is\s+)?(drooping|droop|crooked|twisted|tilted|slanting|one side)",
    _B + r"(slurred|slurring|unclear)\s+(speech|words|talking)|(speech|talking)\s+(is\s+)?(slurred|slurring)",
    _B + r"worst headache|(sudden|suddenly) (\w+ ){0,2}(severe|terrible|worst|very bad) headache|"
    r"(mouth|face) (gone|went|is|has gone) (crooked|twisted|to one side)|(hand|arm|leg) not (lifting|moving)|"
    r"speech (is )?(slurry|slurred|unclear)|"
    r"(talking|speaking) (nonsense|rubbish)|not recogni[sz]ing (us|me|anyone|anybody)",
    _B + r"(can'?t|cannot|cant|unable to|not able to)\s+(move|lift|feel)\s+(his|her|my)?\s*(left|right|one)?\s*"
    r"(arm|leg|hand|side)",
    _B + r"(one side|left side|right side|half (of )?(the )?body)\s+(is\s+)?(weak|numb|not moving|paralys)",
    _B + r"(one|left|right) side of (my|his|her|the) (body|face) (went|is|gone|became) (numb|weak|dead)|"
    r"words (are )?not coming|(can'?t|cannot) (find|get) (the |my )?words",
    _B + r"no (feeling|sensation|movement) (on|in) (the |his |her |my )?(right|left|one) (side|arm|leg)",
    _B + r"(suddenly|sudden)\s+(can'?t|cannot|cant|unable to|not able to)\s+(speak|talk|see)|"
    r"(can'?t|cannot|cant)\s+(speak|talk)\s+(suddenly|properly|at all)",
    *_SELF_HARM_LATIN,
    # poisoning, overdose, bites
    _B + r"(poison|poisoned|poisoning|pesticide|insecticide|rat poison|kerosene|acid attack|drank acid|"
    r"swallowed|overdose|over dose|overdosed|too many (pills|tablets|sleeping pills)|"
    r"all (the|his|her|my) (\w+ )?(pills|tablets|medicines?)|whole (bottle|strip)|"
    r"(took|swallowed|ate|taken|taking|kha li\w*) (\w+ ){0,3}(\d\d+|all|many|lots of) "
    r"(\w+ ){0,2}(pills|tablets|goli|goliyan)|"
    r"(swallowed|ate|took) \d\d+|\d\d+ (\w+ )?(sleeping|bp|sugar|diabetes|pain) (pills|tablets)|"
    r"(all|many|sari|saari) (\w+ ){0,3}(sleeping|neend ki) (pills|tablets|goli\w*)|"
    r"(all|whole|entire) (\w+ ){0,2}insulin|insulin (overdose|pens at once)|keedanaashini|keedanashini|keetnashak|"
    r"nura varunnu|foam(ing)? (from|at) (the )?mouth|"
    r"drank (petrol|diesel|kerosene|acid|cleaner)|rat kill\w*|"
    r"(cockroach|mosquito|ant|rat|termite) (killer|poison|spray|liquid)|"
    r"chuh[ae] (maarne|marne) (wali|ki) dawai|good ?knight|all ?out (liquid|refill)|mortein|hit spray|baygon|"
    r"mosquito (liquid|refill|repellent)|"
    r"keede (maarne|marne) (wali|ki) dawai|ratol|rat ?kill paste|"
    r"(took|taken|ate|swallowed|gave) (\w+ ){0,3}(tablets|pills|medicine|dose) "
    r"(\w+ ){0,3}(2|two|double|twice|extra) times|"
    r"(tablets|pills|medicines?) (\d|two|double|twice) (times )?by mistake|twice by mistake|"
    r"by mistake (\w+ ){0,4}(tablets|pills|poison|medicine))" + _E,
    # household chemicals and small things a child swallows: only with the swallowing
    _B + r"(drank|drunk|drink|swallowed|swallow|ate|eaten|consumed|pi liya|pee liya|kha liya|kudichu|nigal\w*|vizhungi)"
    r"\W+(\w+\W+){0,4}(phenyl|phenol|harpic|bleach|toilet cleaner|floor cleaner|detergent|hair dye|mothballs?|"
    r"battery|button cell|coin|magnet|kerosene|acid|pesticide|insecticide)|(phenyl|phenol|harpic|bleach|"
    r"toilet cleaner|floor cleaner|hair dye|kerosene|pesticide)\W+(\w+\W+){0,3}(drank|drunk|swallowed|ate|"
    r"pi liya|pee liya|kha liya|kudichu|pee li|pi li)",
    _B + r"(snake ?bite|bitten by a snake|snake bit|saa?n?p ne kaa?t|saa?np kaa?t|scorpion)" + _E,
    _B + r"(dog|monkey|cat) (bite|bit)\w* (\w+ ){0,4}(deep|blood|bleeding|face|eye)",
    _B + r"(zeher|zehar|zaher|jahar|jeher|visham|vesham|visam|paambu kadi|pambu kadichu|pambu kadi)",
    _B + r"(not breathing|stopped breathing|turning blue|turned blue|lips (are )?blue|blue lips)" + _E,
    # pregnancy and babies
    _B + r"(labou?r pain|labou?r pains|water (has )?broke|waters broke|water broken|bleeding in pregnancy|"
    r"pregnan\w* (and|with|is)?\s*(bleeding|heavy bleeding|severe pain))",
    _B + r"(sugar|glucose|blood sugar)\s*(is\s*|level\s*)?([1-4]?\d|[5-9]\d\d)(?!\d)|not making sense|"
    r"onnum manassilakunnilla|(not|isn'?t) (feeding|drinking) (and|,)? ?(very )?(floppy|limp|cold|drowsy)|"
    r"(very|too) (drowsy|floppy|limp)",
    _B + r"(baby|child|kid|infant|newborn)\s+(is\s+)?(not breathing|choking|unconscious|not moving|turning blue|"
    r"not responding|fainted|having fits)",
    _B + r"(baby|born)\s+(\w+\s+){0,5}not crying|soft spot (\w+ ){0,3}sunken|sunken (soft spot|fontanelle|eyes)|"
    r"not (drinking|taking) (milk|feeds?|breast ?milk) (since|for)|"
    r"(monu|molu|kunju|kunjinu|vavakku)\s+(\w+\s+){0,3}vira|"
    r"no (urine|pee|wet nappy|wet diaper) (since|for)|(head|baby) is coming( out)?|baby coming out|water broke|"
    r"(bleeding|khoon)\s+(\w+\s+){0,3}(after|since) (the )?(delivery|birth)|"
    r"(delivery|prasavam) (ke|kazhinju) (baad|shesham)\s+(\w+\s+){0,2}(bleeding|khoon|chora)",
    _B + r"(high fever)\s+(and|with)\s+(fits|seizure|unconscious|not responding)",
    _B + r"(very hot|hot body) (\w+ ){0,3}not sweating|heat ?stroke|sun ?stroke|"
    r"(stomach|belly|abdomen|abdominal) (pain )?(\w+ ){0,3}(unbearable|hard like|rigid|rolling)|rolling on the floor|"
    r"(belly|stomach) is (hard|rigid|swollen and hard)|(even )?walking is impossible|cant even stand|can'?t even stand|"
    r"(vayattil|vayaril|vayar) (\w+ )?(bhayankara|kadutha) vedana|chora (chardhichu|chardichu|chardhi)|"
    r"(fell|fallen|drowned) (in|into) (the |a )?(pond|well|river|lake|pool|water|tank)|kulathil veenu|kinattil veenu",
)

# Hindi in Devanagari and Malayalam in its own script: substrings (stems, so that endings vary).
_INDIC = _indic(
    *_SELF_HARM_INDIC,
    # Hindi
    "एम्बुलेंस",
    "एंबुलेंस",
    "अम्बुलेंस",
    "एमबुलेंस",
    "इमरजेंसी",
    "आपातकाल",
    "आपात",
    "सीने में दर्द",
    "छाती में दर्द",
    "सीने मे दर्द",
    "छाती मे दर्द",
    "सीने में तेज",
    "सीने में बहुत",
    "छाती में तेज",
    "दिल का दौरा",
    "हार्ट अटैक",
    "सांस नहीं",
    "साँस नहीं",
    "सांस लेने में",
    "साँस लेने में",
    "सांस फूल",
    "साँस फूल",
    "दम घुट",
    "बेहोश",
    "होश नहीं",
    "दौरा पड़",
    "मिर्गी",
    "लकवा",
    "खून बह",
    "खून नहीं रुक",
    "बहुत खून",
    "सांस रुक",
    "साँस रुक",
    "होंठ नीले",
    "मिट्टी का तेल पी",
    "केरोसिन पी",
    "चूहे मारने",
    "कीड़े मारने",
    "खून की उल्टी",
    "कीटनाशक",
    "मुंह टेढ़ा",
    "मुँह टेढ़ा",
    "बोल नहीं पा",
    "सारी गोलियां",
    "सारी गोलियाँ",
    "ज़हर",
    "जहर",
    "विष खा",
    "विष पी",
    "सांप ने काट",
    "साँप ने काट",
    "सांप काट",
    "साँप काट",
    "जल गय",
    "दुर्घटना",
    "एक्सीडेंट",
    # Malayalam
    "ആംബുലൻസ",
    "ആംബുലന്‍സ",
    "ആമ്പുലൻസ",
    "എമർജൻസി",
    "എമര്‍ജന്‍സി",
    "അടിയന്തര",
    "നെഞ്ചുവേദന",
    "നെഞ്ച് വേദന",
    "നെഞ്ചിൽ വേദന",
    "നെഞ്ചുവേദ",
    "ഹൃദയാഘാതം",
    "ഹാർട്ട് അറ്റാക്ക",
    "ശ്വാസം കിട്ടുന്നില്ല",
    "ശ്വാസം ഇല്ല",
    "കുളത്തിൽ വീണു",
    "കിണറ്റിൽ വീണു",
    "മുഖം ഒരു വശത്തേക്ക്",
    "മുഖം കോടി",
    "കീടനാശിനി",
    "ഷോക്കേറ്റ",
    "അനക്കമില്ല",
    "അനക്കം ഇല്ല",
    "ശ്വാസം എടുക്കുന്നില്ല",
    "ശ്വസിക്കുന്നില്ല",
    "ശ്വാസം കിട്ടാ",
    "ശ്വാസതടസ്സ",
    "ശ്വാസംമുട്ട",
    "ശ്വാസം മുട്ട",
    "ശ്വസിക്കാൻ പറ്റുന്നില്ല",
    "ബോധം പോയി",
    "ബോധമില്ല",
    "ബോധം ഇല്ല",
    "ബോധം കെട്ടു",
    "ബോധംകെട്ടു",
    "ബോധരഹിത",
    "തളർന്നു വീണു",
    "അപസ്മാര",
    "രക്തസ്രാവം",
    "ചോര നിൽക്കുന്നില്ല",
    "രക്തം നിൽക്കുന്നില്ല",
    "രക്തം പോകുന്നു",
    "ചോര പോകുന്നു",
    "വിഷം",
    "പാമ്പ് കടിച്ചു",
    "പാമ്പുകടി",
    "അപകടം",
    "പൊള്ളലേറ്റ",
    "സ്ട്രോക്ക്",
    "പക്ഷാഘാത",
)

# Look-alikes that are about the past, a report or a service, not about someone in danger now. They only
# lower the alarm for the words that are ambiguous on their own (the organ, the service), never for the
# unmistakable ones (unconscious, not breathing, suicide, poison...).
_AMBIGUOUS = _words(
    _B + r"(ambulance|ambulence|emergency|emergancy|108|112|(call|dial|ring|phone) (108|112)|heart\s*attack|chest|"
    r"(road )?accident|stroke|paralysis|burns?|burnt|fits|seizures?|swallowed|poison\w*|breathing|breathless(ness)?|"
    r"fainting|"
    r"cpr|drown\w*|snake ?bite|electric shock|"
    r"short(ness)? of breath|bleeding|sos|urgent)" + _E,
)
_NOT_NOW = _words(
    _B + r"(x-?ray|xray|scan|ct|mri|ecg|ekg|echo|report|reports|results?|test|tests|appointment|appointments|"
    r"appt|book|booking|reschedule|charges?|cost|price|fees?|bill|billing|contact number|phone number|timings?|"
    r"visiting hours|visiting|class|classes|exercises?|insurance|claim|certificate|history|"
    r"weeks? ago|information|centre|center|notice board|"
    r"prescription|refill|follow[- ]?up|checkup|check-up|discharge summary|"
    r"training|courses?|lifeguard|antivenom|booklet|eeg|episodes|driver left|left his phone|left her phone|"
    r"return it|rehab\w*|physiotherapy|schedule|awareness|camp|poster|pamphlet|brochure|leaflet|program(me)?s?|"
    r"job|jobs|vacancy|vacancies|recruitment|when (he|she|i) (was|were) (small|young|a child)|yearly|talk on|"
    r"talk for|available|availability|pharmacy|in stock|conducting|conducted)" + _E,
)
# The past, said plainly: lowers every alarm but the unmistakable ones ("had chest pain last year").
_PAST = _words(
    _B + r"(last (year|month)|years? ago|months? ago|in (19|20)\d\d|history of|when (he|she|i) (was|were) "
    r"(small|young|a child|a baby)|(in|since) (jan|feb|march|april|may|"
    r"june|july|aug|sept?|oct|nov|dec)\w*)" + _E,
)
_UNMISTAKABLE = _words(
    _B + r"(unconscious|unconcious|unresponsive|not responding|not waking|can'?t wake|cant wake|passed out|"
    r"fainted|collapsed|not breathing|stopped breathing|can'?t breathe|cant breathe|cannot breathe|"
    r"suicid\w*|kill (my ?self|myself)|end (my|his|her) life|overdose|too many (pills|tablets)|dying|"
    r"heavy bleeding|bleeding heavily|won'?t stop bleeding|right now|immediately|please come|come fast|"
    r"send (an? )?ambulance|need (an? )?ambulance)" + _E,
)


def about_something_else(text: str) -> bool:
    """The message speaks of a report, a bill, a service, a class or the past: words that make an
    emergency-sounding word (ambulance, chest, accident) an everyday question."""
    norm = normalise(text)
    return bool(_NOT_NOW.search(norm) or _PAST.search(norm))


def is_emergency(text: str) -> bool:
    """True when the message signals a medical emergency (in any of the languages above). A long message is
    read at its start and at its end, where people put what matters."""
    text = text or ""
    if len(text) <= MAX_CHECKED_CHARS:
        return _is_emergency(text)
    return _is_emergency(text[:MAX_CHECKED_CHARS]) or _is_emergency(text[-MAX_CHECKED_CHARS:])


# Names of services and topics that contain alarming words but alarm no one.
_TOPICS = re.compile(
    r"suicide prevention|prevention of suicide|suicide awareness|first aid (class|course|training|talk)|"
    r"(seizure|fits|epilepsy|heart|bp|poison) (medicine|tablet|tablets|drug)s?"
)


def _is_emergency(text: str) -> bool:
    norm = _TOPICS.sub(" ", normalise(text))
    if not norm:
        return False
    if _INDIC.search(norm):
        return True
    hits = [m.group(0) for m in _LATIN.finditer(norm)]
    if not hits:
        return False
    if _UNMISTAKABLE.search(norm):
        return True
    if _PAST.search(norm):
        return False
    if not _NOT_NOW.search(norm):
        return True
    # only ambiguous words, in a sentence about a report, a service or the past: not an alarm
    return not all(_AMBIGUOUS.fullmatch(hit) for hit in hits)


_SELF_HARM = _words(*_SELF_HARM_LATIN)
_SELF_HARM_SCRIPTS = _indic(*_SELF_HARM_INDIC)


def is_self_harm(text: str) -> bool:
    """An emergency about harming oneself: the answer adds the mental health helpline."""
    norm = normalise(text)
    return bool(_SELF_HARM.search(norm) or _SELF_HARM_SCRIPTS.search(norm))


# --- scripts the assistant does not read yet -------------------------------------------------------------

_SCRIPTS = {
    "devanagari": (0x0900, 0x097F),
    "malayalam": (0x0D00, 0x0D7F),
    "tamil": (0x0B80, 0x0BFF),
    "telugu": (0x0C00, 0x0C7F),
    "kannada": (0x0C80, 0x0CFF),
    "bengali": (0x0980, 0x09FF),
    "gujarati": (0x0A80, 0x0AFF),
    "gurmukhi": (0x0A00, 0x0A7F),
    "oriya": (0x0B00, 0x0B7F),
    "arabic": (0x0600, 0x06FF),
}


def foreign_script(text: str) -> str | None:
    """The non-Latin script most of the letters are written in, or None for Latin text (or no letters)."""
    counts: dict[str, int] = {}
    latin = 0
    for char in text[:MAX_CHECKED_CHARS]:
        code = ord(char)
        if char.isascii():
            latin += char.isalpha()
            continue
        for script, (low, high) in _SCRIPTS.items():
            if low <= code <= high:
                counts[script] = counts.get(script, 0) + 1
                break
    if not counts:
        return None
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count >= latin else None
