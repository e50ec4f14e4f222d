"""Readers for the labelled corpora in ``../shared/data`` (never copied into the repository).

* spam: YouTube Spam Collection files 01-04 and the SMS Spam Collection train; file 05
  (Shakira) is the held-out evaluation set and is never used for training or tuning.
* abuse: Davidson et al. (2017) tweets, class 0/1 (hate, offensive) = abusive, 2 = neither;
  a fixed, seeded, stratified 20% split is held out.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

YOUTUBE_TRAIN = (
    "Youtube01-Psy.csv",
    "Youtube02-KatyPerry.csv",
    "Youtube03-LMFAO.csv",
    "Youtube04-Eminem.csv",
)
YOUTUBE_HELD_OUT = "Youtube05-Shakira.csv"
SMS_FILE = "SMSSpamCollection"
DAVIDSON_FILE = "labeled_data.csv"
DAVIDSON_SEED = 20171
DAVIDSON_TEST_SIZE = 0.2


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int  # 1 = spam / abusive
    source: str  # "youtube", "sms", "davidson", "moderator"
    group: str = ""  # the video a YouTube comment belongs to: the unit of leave-one-out CV


def default_data_dir() -> Path:
    """``../shared/data`` next to the repository checkout."""
    return (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def has_shared_data(data_dir: Path | None = None) -> bool:
    d = data_dir or default_data_dir()
    return (d / "youtube-spam" / YOUTUBE_HELD_OUT).is_file() and (d / "toxic" / DAVIDSON_FILE).is_file()


def _youtube(path: Path) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            Example(row["CONTENT"], int(row["CLASS"]), "youtube", path.stem) for row in csv.DictReader(fh)
        ]


def spam_train(data_dir: Path) -> list[Example]:
    """YouTube 01-04, then the SMS collection with its exact duplicates dropped."""
    out: list[Example] = []
    for name in YOUTUBE_TRAIN:
        out.extend(_youtube(data_dir / "youtube-spam" / name))
    seen: set[str] = set()
    with (data_dir / "sms-spam" / SMS_FILE).open(encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if text in seen:
                continue
            seen.add(text)
            out.append(Example(text, 1 if label == "spam" else 0, "sms"))
    return out


def spam_held_out(data_dir: Path) -> list[Example]:
    return _youtube(data_dir / "youtube-spam" / YOUTUBE_HELD_OUT)


def davidson_split(data_dir: Path) -> tuple[list[Example], list[Example]]:
    """(train, held-out): the same 80/20 split on every machine, stratified on the 3 classes."""
    from sklearn.model_selection import train_test_split

    texts: list[str] = []
    classes: list[int] = []
    with (data_dir / "toxic" / DAVIDSON_FILE).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["tweet"])
            classes.append(int(row["class"]))
    idx = list(range(len(texts)))
    train_idx, test_idx = train_test_split(
        idx, test_size=DAVIDSON_TEST_SIZE, stratify=classes, random_state=DAVIDSON_SEED
    )

    def pick(ids: list[int]) -> list[Example]:
        return [Example(texts[i], 0 if classes[i] == 2 else 1, "davidson") for i in sorted(ids)]

    return pick(train_idx), pick(test_idx)


def file_digests(data_dir: Path) -> dict[str, str]:
    """md5 of every input file, recorded in the artifact so a retrain can be checked."""
    names = [f"youtube-spam/{n}" for n in (*YOUTUBE_TRAIN, YOUTUBE_HELD_OUT)]
    names += [f"sms-spam/{SMS_FILE}", f"toxic/{DAVIDSON_FILE}"]
    return {n: hashlib.md5((data_dir / n).read_bytes(), usedforsecurity=False).hexdigest() for n in names}
