"""Transcription accuracy against pronunciation lexicons: phone and word error rates, confusions.

What is measured. Each lexicon entry (``word<TAB>pronunciation``, see ``../shared/data/lexicons``) is
transcribed by a phonemizer in one of two token layouts, and the concatenated IPA of its tokens is
compared with the reference pronunciation:

* ``word``: the entry as one token (spaces inside a multi-word entry removed, as UDPOS writes
  Vietnamese compounds: ``chiếntranh``);
* ``data``: the layout of the release's own data -- zh and ja one character per token (PAN-X), the
  characters given together as one sentence so readings come from context; ko and vi one token per
  space-separated word or syllable (PAN-X ko eojeol, PAN-X vi syllables).

One normalisation is applied to BOTH sides (:func:`normalise`, table
``resources/g2p_eval_normalisation.csv``): NFD; notational variants folded (ligature affricates
``ʦ`` -> ``ts``, ``ɡ`` -> ``g``, tie bars removed); narrow diacritics (``a̠ e̞ ɯ̟ k̚ ɯᵝ kʲ``), length
marks and tones (Chao letters, viphoneme's digits, the glottalised-tone ``ˀ``) removed; then, per
language, allophones of one phoneme folded (Korean ``ɾ ɭ ʎ`` -> ``l``, lenis ``b d g`` -> ``p t k``,
Japanese ``ɸ ç`` -> ``h``, ...), each row with its reason. Phones are then segmented one base
character plus the modifier letters and combining marks after it (``kʰ``, ``t͈``); affricates count
as two phones on both sides (the tie bar is gone); a run of one phone repeated counts once (length is
not compared: the references write a geminate or long vowel as ``mː`` or ``m m`` interchangeably).

Per (lexicon, scheme, layout): phone error rate (PER) = the summed Levenshtein distance between
hypothesis and reference phone sequences over the summed reference length; word error rate (WER) =
the share of entries with any phone error. An entry with several references (ipa-dict's commas,
WikiPron's repeated headwords) scores against the closest one. Confusions are counted from one
minimal alignment per entry: ``a>b`` a substitution, ``a>`` a deletion, ``>b`` an insertion.

Sampling: ``limit`` entries per lexicon drawn with ``random.Random(seed)`` (stated in the results),
or every entry with ``limit=None``.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from cjkv_phon.errors import InputError, check_choice
from cjkv_phon.schema import LANGS, SCHEMES

# name -> (language, file in the lexicon folder). ja has two (hiragana and katakana words), zh two
# (Simplified and Traditional headwords).
LEXICONS: dict[str, tuple[str, str]] = {
    "zh-hans": ("zh", "zh-hans.ipadict.tsv"),
    "zh-hant": ("zh", "zh-hant.ipadict.tsv"),
    "ja-hira": ("ja", "ja-hira.wikipron.tsv"),
    "ja-kana": ("ja", "ja-kana.wikipron.tsv"),
    "ko": ("ko", "ko.wikipron.tsv"),
    "vi-hanoi": ("vi", "vi-hanoi.wikipron.tsv"),
}
LAYOUTS: tuple[str, ...] = ("word", "data")
NORMALISATION_TABLE = "g2p_eval_normalisation.csv"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
TOP_CONFUSIONS = 15


@dataclass(frozen=True)
class Entry:
    """One headword and its reference pronunciations (raw, as the lexicon writes them)."""

    word: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class G2PEvalConfig:
    """Settings of one ``cjkv eval-g2p`` run.

    Attributes:
        lexicon_dir: folder with the lexicon files (``../shared/data/lexicons``).
        lexicons: names from :data:`LEXICONS` to evaluate.
        schemes: phonemizer schemes.
        layouts: ``word`` and/or ``data`` (module docstring).
        limit: entries sampled per lexicon (None: all of them).
        seed: the sample's seed.
    """

    lexicon_dir: str = "../shared/data/lexicons"
    lexicons: tuple[str, ...] = tuple(LEXICONS)
    schemes: tuple[str, ...] = ("native",)
    layouts: tuple[str, ...] = LAYOUTS
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for kind, values, valid in (("lexicon", self.lexicons, tuple(LEXICONS)),
                                    ("scheme", self.schemes, SCHEMES), ("layout", self.layouts, LAYOUTS)):
            if not values:
                raise ValueError(f"no {kind} to evaluate; valid: {', '.join(valid)}")
            for value in values:
                check_choice(kind, value, valid)
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1 or None, got {self.limit}")


@lru_cache(maxsize=1)
def normalisation_rules() -> tuple[tuple[str, str, str], ...]:
    """``(lang or "*", source, target)`` rows of the normalisation table, in file order.

    ``\\uXXXX`` in a cell stands for that code point (combining marks are unreadable in a CSV).
    """
    import csv
    import io

    text = (resources.files("cjkv_phon.resources") / NORMALISATION_TABLE).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        lang, source = row.get("lang") or "", row.get("source") or ""
        if lang not in ("*", *LANGS) or not source:
            raise InputError("bad normalisation row (lang must be * or zh ja ko vi; source non-empty)",
                             f"cjkv_phon/resources/{NORMALISATION_TABLE}", reader.line_num, row)
        unescape = lambda s: _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), s)  # noqa: E731
        rows.append((lang, unicodedata.normalize("NFD", unescape(source)),
                     unicodedata.normalize("NFD", unescape(row.get("target") or ""))))
    return tuple(rows)


def _attaches(ch: str) -> bool:
    """Modifier letters (ʰ ʷ) and combining marks (U+0348 tense) belong to the phone before them."""
    return unicodedata.category(ch) in ("Mn", "Lm")


def normalise(ipa: str, lang: str) -> tuple[str, ...]:
    """The phones of ``ipa`` after the shared normalisation (module docstring).

    Example:
        >>> normalise("t͡ɕʰa̠ ŋ˧˥", "zh")
        ('t', 'ɕʰ', 'a', 'ŋ')
    """
    # Spaces first (WikiPron separates phones with them): phones are re-segmented below anyway.
    text = "".join(unicodedata.normalize("NFD", ipa).split())
    for rule_lang, source, target in normalisation_rules():
        if rule_lang in ("*", lang):
            text = text.replace(source, target)
    phones: list[str] = []
    for ch in text:
        if ch.isspace() or unicodedata.category(ch).startswith("P"):
            continue  # punctuation inside a headword (，in zh idioms) is no phone on either side
        if phones and _attaches(ch):
            phones[-1] += ch
        else:
            phones.append(ch)
    # Length marks are gone, so a doubled phone (geminate kk, long vowel aa) is one phone: the
    # references write length as ː or doubling interchangeably (あんま: a̠ mː a̠ vs a m m a).
    return tuple(p for i, p in enumerate(phones) if i == 0 or p != phones[i - 1])


def edit_alignment(ref: Sequence[str], hyp: Sequence[str]) -> tuple[int, list[tuple[str, str]]]:
    """Levenshtein distance and one minimal alignment's errors as ``(ref_phone, hyp_phone)`` pairs.

    A deletion has ``""`` as its hypothesis phone, an insertion ``""`` as its reference phone.
    """
    n, m = len(ref), len(hyp)
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dist[i][0] = i
    for j in range(m + 1):
        dist[0][j] = j
    for i in range(1, n + 1):
        row, prev = dist[i], dist[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1]))
    errors: list[tuple[str, str]] = []
    i, j = n, m
    while i or j:
        if i and j and dist[i][j] == dist[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                errors.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and dist[i][j] == dist[i - 1][j] + 1:
            errors.append((ref[i - 1], ""))
            i -= 1
        else:
            errors.append(("", hyp[j - 1]))
            j -= 1
    return dist[n][m], errors[::-1]


def read_lexicon(path: str | Path) -> list[Entry]:
    """Entries of one lexicon file, headwords merged (first-seen order), references split on commas.

    Raises:
        FileNotFoundError: the file is missing.
        InputError: a line without exactly one TAB or with an empty field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lexicon not found: {path} (see ../shared/data/SOURCES.md)")
    refs: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise InputError("expected word<TAB>pronunciation", path, line_no, line)
            word = unicodedata.normalize("NFC", parts[0].strip())
            refs.setdefault(word, []).extend(p.strip() for p in parts[1].split(",") if p.strip())
    return [Entry(word, tuple(dict.fromkeys(prons))) for word, prons in refs.items()]


def sample_entries(entries: list[Entry], limit: int | None, seed: int) -> list[Entry]:
    """``limit`` entries drawn with ``random.Random(seed)`` (file order kept), or all of them."""
    if limit is None or limit >= len(entries):
        return entries
    keep = set(random.Random(seed).sample(range(len(entries)), limit))
    return [e for i, e in enumerate(entries) if i in keep]


def layout_tokens(word: str, lang: str, layout: str) -> list[str]:
    """The tokens a word is given as (module docstring): ``("日本", "ja", "data")`` -> ``["日", "本"]``."""
    if layout == "word":
        return ["".join(word.split())]
    if lang in ("zh", "ja"):
        return [c for c in word if not c.isspace()]
    return word.split()


@dataclass
class Score:
    """Running totals for one (lexicon, scheme, layout)."""

    entries: int = 0
    ref_phones: int = 0
    phone_errors: int = 0
    word_errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    confusions: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, str]] = field(default_factory=list)

    def add(self, word: str, hyp_ipa: str, statuses: Iterable[str], refs: tuple[str, ...],
            lang: str) -> None:
        """Score one entry against its closest reference."""
        hyp = normalise(hyp_ipa, lang)
        best: tuple[int, int, list[tuple[str, str]], str] | None = None
        for ref_ipa in refs:
            ref = normalise(ref_ipa, lang)
            dist, errors = edit_alignment(ref, hyp)
            # Closest by error rate, so a long and a short variant compete fairly.
            if best is None or dist * max(best[1], 1) < best[0] * max(len(ref), 1):
                best = (dist, len(ref), errors, ref_ipa)
        assert best is not None  # read_lexicon never yields an entry without references
        dist, length, errors, ref_ipa = best
        self.entries += 1
        self.ref_phones += length
        self.phone_errors += dist
        self.statuses.update(statuses)
        if dist:
            self.word_errors += 1
            self.confusions.update(f"{a}>{b}" for a, b in errors)
            if len(self.examples) < 10:
                self.examples.append({"word": word, "hypothesis": hyp_ipa, "reference": ref_ipa})

    def summary(self) -> dict[str, Any]:
        """PER, WER, counts, top confusions and a few wrong examples (JSON-ready)."""
        return {
            "entries": self.entries, "ref_phones": self.ref_phones, "phone_errors": self.phone_errors,
            "per": round(self.phone_errors / self.ref_phones, 5) if self.ref_phones else 0.0,
            "wer": round(self.word_errors / self.entries, 5) if self.entries else 0.0,
            "statuses": dict(sorted(self.statuses.items())),
            "top_confusions": dict(self.confusions.most_common(TOP_CONFUSIONS)),
            "examples": self.examples,
        }


def evaluate_lexicon(entries: list[Entry], lang: str, transcribe: Callable[[list[str]], Any],
                     layout: str) -> Score:
    """Score ``transcribe`` (a phonemizer's ``transcribe``) on entries in one layout."""
    score = Score()
    for entry in entries:
        tokens = layout_tokens(entry.word, lang, layout)
        if not tokens:
            continue
        result = transcribe(tokens)
        score.add(entry.word, "".join(result.ipa), result.status, entry.references, lang)
    return score


def evaluate_g2p(cfg: G2PEvalConfig, on_done: Callable[[str, dict[str, Any]], None] | None = None
                 ) -> dict[str, Any]:
    """Evaluate every (lexicon, scheme, layout) of ``cfg``.

    Args:
        cfg: what to evaluate.
        on_done: called with ``"<lexicon>/<scheme>/<layout>"`` and its summary as each finishes.

    Returns:
        ``{"config", "normalisation", "results": {lexicon: {scheme: {layout: summary}}},
        "versions": {scheme: {lang: tool versions}}, "seconds"}``.
    """
    from cjkv_phon.data.phonemize import get_phonemizer  # the linguistic tools load only here

    start = time.perf_counter()
    results: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    versions: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for name in cfg.lexicons:
        lang, filename = LEXICONS[name]
        entries = sample_entries(read_lexicon(Path(cfg.lexicon_dir) / filename), cfg.limit, cfg.seed)
        for scheme in cfg.schemes:
            phonemizer = get_phonemizer(lang, scheme)
            versions[scheme][lang] = phonemizer.versions()
            results[name][scheme] = {}
            for layout in cfg.layouts:
                t0 = time.perf_counter()
                summary = evaluate_lexicon(entries, lang, phonemizer.transcribe, layout).summary()
                summary["seconds"] = round(time.perf_counter() - t0, 2)
                results[name][scheme][layout] = summary
                if on_done is not None:
                    on_done(f"{name}/{scheme}/{layout}", summary)
    return {
        "config": {"lexicon_dir": cfg.lexicon_dir, "lexicons": list(cfg.lexicons),
                   "schemes": list(cfg.schemes), "layouts": list(cfg.layouts), "limit": cfg.limit,
                   "seed": cfg.seed},
        "normalisation": [{"lang": lang, "source": s, "target": t}
                          for lang, s, t in normalisation_rules()],
        "results": dict(results), "versions": dict(versions),
        "seconds": round(time.perf_counter() - start, 2),
    }


def markdown_table(report: dict[str, Any]) -> str:
    """A README table: PER and WER per lexicon, scheme and layout (percentages)."""
    layouts = report["config"]["layouts"]
    head = "| lexicon | scheme | " + " | ".join(f"PER {l} | WER {l}" for l in layouts) + " | entries |"
    rule = "|---|---|" + "---|---|" * len(layouts) + "---|"
    lines = [head, rule]
    for name, schemes in report["results"].items():
        for scheme, by_layout in schemes.items():
            cells = []
            for layout in layouts:
                s = by_layout[layout]
                cells.append(f"{100 * s['per']:.2f}% | {100 * s['wer']:.1f}%")
            entries = next(iter(by_layout.values()))["entries"]
            lines.append(f"| {name} | {scheme} | " + " | ".join(cells) + f" | {entries} |")
    return "\n".join(lines)
