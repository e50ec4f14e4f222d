"""Realistic reader comments for the ketamine-infusion article, generated from a seed.

Most comments are ordinary (experience, questions, thanks); a minority carry what the checks
look for: links and promotion, profanity, unsafe medical claims, and now and then crisis
language. The mix is fixed by the seed, so two runs measure the same texts.
"""

from __future__ import annotations

import random

ORDINARY = (
    "I had six infusions at a clinic last spring after three antidepressants failed.",
    "The first session felt strange, like floating above the room, but it passed within an hour.",
    "My psychiatrist monitored my blood pressure every fifteen minutes during the infusion.",
    "Does anyone know whether insurance covers the maintenance sessions after the first course?",
    "Thank you for writing about this so carefully; most articles either hype it or dismiss it.",
    "The nausea was the worst part for me, and the anti-nausea medication helped a lot.",
    "I would love to see a follow-up on the long-term studies, not just the six-week trials.",
    "It did not work for my brother, so I appreciate that you mention the non-responders.",
    "How long did it take before you noticed any change in your mood?",
    "My clinic asked for a full medical history and an ECG before the first appointment.",
    "I drove myself home once and the nurse was right to stop me; arrange a ride.",
    "The dissociation scared me at first, but talking it through with the nurse helped.",
    "Esketamine nasal spray is a different thing from the IV infusions described here.",
    "After the fourth infusion the fog started to lift for the first time in years.",
    "I wish the article said more about costs, since most clinics charge out of pocket.",
    "Therapy alongside the infusions made the difference for me, not the drug alone.",
    "Has anyone had trouble with bladder symptoms after a long course of treatment?",
    "My GP had never heard of it, so I brought a printout of the trial results.",
    "I am cautiously hopeful; two weeks in and I am sleeping better than before.",
    "The waiting room was calm and the staff explained every step before starting.",
    "Good to see the risks laid out plainly alongside the benefits.",
    "Is there any data on people over seventy, or were they excluded from the trials?",
    "Please keep reporting on this; people like me need honest information.",
    "I relapsed after three months and went back for a booster, which worked again.",
)
LINKS = (
    "Cheap ketamine shipped discreetly, order now at http://bit.ly/k3t-deal before stock runs out!",
    "I wrote about my experience here: https://example-blog.net/my-ketamine-journey",
    "BEST PRICES on infusions, visit www.cheap-clinic-deals.biz and use code SAVE50!!!",
    "Contact me on telegram @ketaplug for wholesale prices, fast delivery worldwide.",
    "Earn $500 a day from home, click https://tinyurl.com/easy-cash-now to start.",
)
PROFANITY = (
    "This is such bullshit, the clinics are just milking desperate people.",
    "Honestly the insurance companies can go to hell for denying my claim.",
    "What a load of crap, my doctor refused to even discuss it.",
    "The side effects were a pain in the ass but worth it in the end.",
    "Damn, I wish I had known about this five years ago.",
    "Whoever wrote that comment above is a fucking idiot.",
)
MEDICAL = (
    "You can do the same thing at home with a few hundred milligrams bought online, no doctor needed.",
    "Just stop taking your antidepressants before the infusion, they block the effect anyway.",
    "Ketamine cures depression permanently, one session and you never need treatment again.",
    "Mix it with a couple of drinks to make the trip more pleasant, it is completely safe.",
    "Doctors only push pills for the money; skip the psychiatrist and self-medicate.",
)
CRISIS = (
    "Nothing has worked and I do not want to be alive anymore.",
    "I have been thinking about ending it all if this treatment fails too.",
)

# (pool, weight): about 70 % ordinary, the rest spread over the categories the checks target.
_POOLS = ((ORDINARY, 70), (LINKS, 10), (PROFANITY, 9), (MEDICAL, 9), (CRISIS, 2))


def comment(rng: random.Random, length: int) -> str:
    """One comment of about ``length`` characters (cut at a word boundary)."""
    pools = [p for p, _ in _POOLS]
    weights = [w for _, w in _POOLS]
    first_pool = rng.choices(pools, weights)[0]
    parts = [rng.choice(first_pool)]
    size = len(parts[0])
    while size < length:
        # Later sentences are mostly ordinary, so a long comment is not all spam.
        pool = rng.choices(pools, weights)[0] if rng.random() < 0.15 else ORDINARY
        sentence = rng.choice(pool)
        parts.append(sentence)
        size += len(sentence) + 1
    text = " ".join(parts)
    if len(text) > length:
        cut = text.rfind(" ", 0, length)
        text = text[: cut if cut > length // 2 else length]
    return text


def comments(n: int, length: int, seed: int = 7) -> list[str]:
    """``n`` comments of about ``length`` characters, the same for the same seed."""
    rng = random.Random(f"{seed}:{length}")
    return [comment(rng, length) for _ in range(n)]


def mixed_lengths(n: int, seed: int = 7) -> list[str]:
    """Comments with a realistic length mix for end-to-end runs (mostly short, a few long)."""
    rng = random.Random(f"{seed}:mixed")
    lengths = rng.choices((80, 200, 400, 1000), weights=(35, 40, 20, 5), k=n)
    return [comment(rng, length) for length in lengths]
