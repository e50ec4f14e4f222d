from __future__ import annotations

import pytest

from moderation.filters.abuse import AbuseClassifierCheck
from moderation.filters.classifiers import SpamClassifierCheck
from moderation.filters.normalize import normalize
from moderation.filters.types import Category, CommentInput, ReasonCode
from moderation.learning.loader import load_abuse_lexicon, load_model


class FixedModel:
    """A model that answers a fixed probability, and remembers what it was asked."""

    version = "fixed-1"
    threshold = 0.5

    def __init__(self, p: float) -> None:
        self.p = p
        self.seen: list[str] = []

    def probability(self, text: str) -> float:
        self.seen.append(text)
        return self.p


def run(check, text: str):
    return check(CommentInput(text), normalize(text))


@pytest.mark.parametrize(("p", "flagged"), [(0.1, False), (0.49, False), (0.5, True), (0.97, True)])
def test_spam_check_reason_follows_threshold(p, flagged):
    result = run(SpamClassifierCheck(FixedModel(p)), "whatever")
    assert result.scores == {"spam_model": p}
    assert result.version == "fixed-1"
    assert bool(result.reasons) is flagged
    if flagged:
        (reason,) = result.reasons
        assert reason.code is ReasonCode.SPAM_CLASSIFIER
        assert reason.category is Category.SPAM
        assert reason.score == p


@pytest.mark.parametrize(
    ("text", "codes", "quote"),
    [
        ("you are an idiot", {ReasonCode.ABUSE_INSULT}, "you are an idiot"),
        (
            "Honestly, you're such a complete MORON.",
            {ReasonCode.ABUSE_INSULT},
            "you're such a complete MORON",
        ),
        ("u r stupid", {ReasonCode.ABUSE_INSULT}, "u r stupid"),
        ("Idiots like you ruin everything", {ReasonCode.ABUSE_INSULT}, "Idiots like you"),
        ("Y0U are an id1ot", {ReasonCode.ABUSE_INSULT}, "Y0U are an id1ot"),
        ("just shut up", {ReasonCode.ABUSE_INSULT}, "shut up"),
        ("go die", {ReasonCode.ABUSE_THREAT}, "go die"),
        ("Why don't you go kill yourself", {ReasonCode.ABUSE_THREAT}, "go kill yourself"),
        ("people like you should be shot", {ReasonCode.ABUSE_THREAT}, "people like you should be shot"),
        ("I'm going to find you", {ReasonCode.ABUSE_THREAT}, "I'm going to find you"),
        ("I know where you live.", {ReasonCode.ABUSE_THREAT}, "I know where you live"),
        ("People like you should stay off the internet", {ReasonCode.ABUSE_INSULT}, "People like you should"),
        ("k i l l yourself", {ReasonCode.ABUSE_THREAT}, "k i l l yourself"),
        # Third person: the author, a doctor, whoever runs the site, a group of readers.
        ("Honestly the author is a total fraud.", {ReasonCode.ABUSE_INSULT}, "author is a total fraud"),
        ("my doctor who prescribed it is an idiot", {ReasonCode.ABUSE_INSULT}, None),
        ("whoever edits this blog is a clown", {ReasonCode.ABUSE_INSULT}, None),
        ("you guys are all a bunch of sheep", {ReasonCode.ABUSE_INSULT}, None),
        # Name-calling as a clause of its own, with or without "you".
        ("Read the study, moron.", {ReasonCode.ABUSE_INSULT}, "moron"),
        ("Absolute clowns. All of them", {ReasonCode.ABUSE_INSULT}, "Absolute clowns"),
        ("Nice story, you whiny brat!", {ReasonCode.ABUSE_INSULT}, "you whiny brat"),
        ("What kind of idiot trusts a horse drug?", {ReasonCode.ABUSE_INSULT}, "What kind of idiot"),
        ("Worst, stupidest take on depression", {ReasonCode.ABUSE_INSULT}, "stupidest take"),
        # Put-downs as commands or retorts.
        ("Get a life. Seriously.", {ReasonCode.ABUSE_INSULT}, "Get a life"),
        ("ok boomer, no one asked", {ReasonCode.ABUSE_INSULT}, "no one asked"),
        ("Stop crying already, it's just a drug", {ReasonCode.ABUSE_INSULT}, "Stop crying already"),
        ("Hope you guys suffer", {ReasonCode.ABUSE_THREAT}, "Hope you guys suffer"),
        ("fuck you and your clinic", {ReasonCode.ABUSE_INSULT}, "fuck you"),
        ("Are you stupid or just pretending?", {ReasonCode.ABUSE_INSULT}, "Are you stupid"),
        ("Nobody wants you here. Go away.", {ReasonCode.ABUSE_INSULT}, "Go away"),
        ("The doctor who runs that clinic is a grifter", {ReasonCode.ABUSE_INSULT}, None),
        # Not aimed at anyone, or not an insult.
        ("this shit actually worked for me", set(), None),
        ("I felt so stupid asking my doctor, but she was kind", set(), None),
        ("you are not stupid for asking", set(), None),
        ("Thank you, this article helped me", set(), None),
        ("I will find you a link to the study", set(), None),
        ("Skilled nurses; killer side effects though", set(), None),
        # The same words, not aimed at anyone.
        ("I felt like a clown at my first appointment.", set(), None),
        ("As a loser of many battles with depression, this gave me hope", set(), None),
        ("I had to get a job after my leave ended and it helped", set(), None),
        ("Nobody asked me about my history before the infusion", set(), None),
        ("My doctor is great and the nurse is not stupid at all", set(), None),
        ("I hope you all feel better soon", set(), None),
        ("The dumbest thing I did was skip my follow-up", set(), None),
        ("Everyone in my group is weak some days, and that's okay", set(), None),
        ("I stopped crying every morning after the third session.", set(), None),
        ("The nausea will go away after an hour or so.", set(), None),
        ("Does ketamine kill brain cells?", set(), None),
        ("What is wrong with my blood pressure readings?", set(), None),
    ],
)
def test_insults_and_threats(text, codes, quote):
    model = FixedModel(0.0)
    result = run(AbuseClassifierCheck(model, load_abuse_lexicon()), text)
    assert {r.code for r in result.reasons} == codes
    for reason in result.reasons:
        assert reason.category is Category.ABUSE
    if quote is not None:
        spans = [r.span for r in result.reasons]
        assert any(span is not None and text[span[0] : span[1]] == quote for span in spans), spans


def test_abuse_model_reason_and_version():
    model = FixedModel(0.93)
    check = AbuseClassifierCheck(model, load_abuse_lexicon())
    result = run(check, "some text")
    assert result.scores == {"abuse_model": 0.93}
    assert [r.code for r in result.reasons] == [ReasonCode.ABUSE_CLASSIFIER]
    assert result.reasons[0].score == 0.93
    assert check.version.startswith("fixed-1+abuse-rules-")


def test_mild_profanity_is_removed_before_the_model_scores():
    model = FixedModel(0.0)
    run(AbuseClassifierCheck(model, load_abuse_lexicon()), "This shit actually worked for me")
    assert model.seen == ["this   actually worked for me"]


@pytest.mark.parametrize(
    "text",
    [
        "this shit actually worked for me",
        "Damn, my first infusion was a weird ride but it fucking helped",
        "Thank you for writing this. My third ketamine infusion helped more than two years of SSRIs.",
        "Is the nasal spray covered by insurance in the UK?",
        # Praise of the author: "whoever" was an abuse word to the model until friendly uses
        # joined the site examples (these are not among them).
        "Whoever wrote this is a genius",
        "I want to hug whoever wrote this",
        "Can whoever wrote this do a follow-up on esketamine?",
        "Thank you for this article" + "!" * 40,
    ],
)
def test_shipped_abuse_model_leaves_friendly_comments_alone(text):
    check = AbuseClassifierCheck(load_model("abuse"), load_abuse_lexicon())
    assert run(check, text).reasons == ()


@pytest.mark.parametrize(
    "text",
    ["you are a stupid bitch", "shut up you retarded piece of trash"],
)
def test_shipped_abuse_model_flags_attacks(text):
    check = AbuseClassifierCheck(load_model("abuse"), load_abuse_lexicon())
    result = run(check, text)
    assert ReasonCode.ABUSE_CLASSIFIER in {r.code for r in result.reasons}


@pytest.mark.parametrize(
    ("text", "spam"),
    [
        ("Check out my channel http://bit.ly/xx12 and subscribe!!", True),
        ("FREE entry to WIN a £1000 prize, text WIN to 87121 now", True),
        ("Thank you for writing this. My third infusion helped more than two years of SSRIs.", False),
        ("Did anyone else feel nauseous after the second session?", False),
    ],
)
def test_shipped_spam_model_verdicts(text, spam):
    result = run(SpamClassifierCheck(load_model("spam")), text)
    assert bool(result.reasons) is spam
    if spam:
        # A confident model alone crosses the policy's reject line.
        assert result.reasons[0].score >= 0.9


# Probes written for phenomena the rules missed (threats to someone spoken of, insults of
# readers as a group, an insult in front of a person), before the rules were extended, with
# hard negatives using the same words. Not from the labelled corpus.
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("If I ever meet the writer of this I'll punch him", ReasonCode.ABUSE_THREAT),
        ("I'd slap the author if I could", ReasonCode.ABUSE_THREAT),
        ("I would strangle whoever wrote this", ReasonCode.ABUSE_THREAT),
        ("Someone should punch this guy in the face", ReasonCode.ABUSE_THREAT),
        ("I want to beat up the doctor who wrote this", ReasonCode.ABUSE_THREAT),
        ("id smack you if you were here", ReasonCode.ABUSE_THREAT),
        ("The author deserves to be shot", ReasonCode.ABUSE_THREAT),
        ("Whoever wrote this should be locked up", ReasonCode.ABUSE_THREAT),
        ("This comment section is full of morons", ReasonCode.ABUSE_INSULT),
        ("What a bunch of brain-dead sheep in here", ReasonCode.ABUSE_INSULT),
        ("Only an idiot would trust this article", ReasonCode.ABUSE_INSULT),
        ("Nothing but idiots in this thread", ReasonCode.ABUSE_INSULT),
        ("Typical garbage from a half-wit journalist", ReasonCode.ABUSE_INSULT),
        ("Idiot doctors like this one should lose their license", ReasonCode.ABUSE_INSULT),
        ("You absolute muppet", ReasonCode.ABUSE_INSULT),
        ("Go back to school, dummy", ReasonCode.ABUSE_INSULT),
        ("Are you brain-dead?", ReasonCode.ABUSE_INSULT),
        ("These commenters are clueless idiots", ReasonCode.ABUSE_INSULT),
        ("Clueless author, clueless readers", ReasonCode.ABUSE_INSULT),
        # Still missed: "I'm going to find the author and make him pay" ("find" the author and
        # "make him pay" are also said kindly or of bills).
    ],
)
def test_attack_probes(text, code):
    result = run(AbuseClassifierCheck(FixedModel(0.0), load_abuse_lexicon()), text)
    assert code in {r.code for r in result.reasons}


@pytest.mark.parametrize(
    "text",
    [
        "I'd kill for a full night's sleep",
        "Some days I want to punch a wall, the anger is part of my depression",
        "I'll beat this illness one infusion at a time",
        "My brain felt dead for years before the treatment",
        "The waiting room was full of people like me, nervous and hopeful",
        "Only a doctor should adjust your dose",
        "I felt like a brain-dead zombie on SSRIs",
        "The author should be proud of this piece",
        "Someone should tell the author about the new trial",
        "I would hug the nurse who looked after me",
        "Whoever wrote this should win an award",
        "my stupid brain keeps telling me I'm worthless",
        "The stupid insurance company denied my claim",
        "Those dumb side effects are gone now",
        "I'd hit the gym after each infusion",
        "I'll find the author's earlier article and share it",
        "I want to thank the doctor who wrote this",
        "I was full of doubts before my first session",
        "Only an hour after the infusion I felt normal again",
        "I used to call myself an idiot for needing help",
        "Missed another stupid doctor appointment because of the trains",
        "The doctor said I should burn sage, which made me laugh",
        "I'd love to meet the author and thank her",
    ],
)
def test_attack_probe_hard_negatives(text):
    result = run(AbuseClassifierCheck(FixedModel(0.0), load_abuse_lexicon()), text)
    assert result.reasons == ()


@pytest.mark.parametrize(
    "text",
    [
        "Ch3ck my 0nlyfans for exclusive content, link in prof1le",
        "C-h-e-c-k my o.n.l.y.f.a.n.s for exclusive content, link in profile",
        "Hello d3ar, ple4se ch3ck my profile, I want to kn0w you b3tter",
    ],
)
def test_spam_model_reads_leetspeak_and_spaced_letters_plainly(text):
    # The model alone misses these in the casefolded text; written plainly they are spam.
    model, plain = load_model("spam"), "check my onlyfans for exclusive content, link in profile"
    assert model.probability(normalize(text).text.text) < model.threshold <= model.probability(plain)
    result = run(SpamClassifierCheck(model), text)
    assert [r.code for r in result.reasons] == [ReasonCode.SPAM_CLASSIFIER]
    assert result.scores["spam_model"] == round(model.probability(normalize(text).folded.text), 4)


def test_spam_model_reads_one_view_when_nothing_is_folded():
    model = FixedModel(0.2)
    run(SpamClassifierCheck(model), "a plain comment about the infusion")
    assert model.seen == ["a plain comment about the infusion"]
    model = FixedModel(0.2)
    run(SpamClassifierCheck(model), "ch3ck this")
    assert model.seen == ["ch3ck this", "check this"]


def test_abuse_model_also_reads_the_folded_view_with_mild_words_blanked():
    model = FixedModel(0.1)
    run(AbuseClassifierCheck(model, load_abuse_lexicon()), "this sh1t w0rks")
    assert model.seen == ["this sh1t w0rks", "this   works"]
    model = FixedModel(0.1)
    run(AbuseClassifierCheck(model, load_abuse_lexicon()), "this works")
    assert model.seen == ["this works"]


@pytest.mark.parametrize(
    ("text", "code"),
    [("You are an idiot!", ReasonCode.ABUSE_INSULT), ("go die!!", ReasonCode.ABUSE_THREAT)],
)
def test_trailing_exclamation_does_not_hide_an_attack(text, code):
    result = run(AbuseClassifierCheck(FixedModel(0.0), load_abuse_lexicon()), text)
    assert [r.code for r in result.reasons] == [code]


def test_mild_word_followed_by_punctuation_is_still_masked():
    model = FixedModel(0.0)
    run(AbuseClassifierCheck(model, load_abuse_lexicon()), "this shit! worked")
    assert model.seen == ["this  ! worked"]


def test_word_set_fast_path_matches_the_word_pattern():
    import random
    import string

    from moderation.filters.abuse import _WORD_RE, _word_set

    rng = random.Random(7)
    texts = ["you_idiot, moron!", "y0u're\tan id1ot", "naïve café idiot", "", "--__--"]
    texts += ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    for text in texts:
        assert _word_set(text) == set(_WORD_RE.findall(text)), text
