"""A faster, output-identical drop-in for epitran's ``SimpleEpitran`` (map + rules engine).

Why: the native ja and ko phonemizers spend most of their time in epitran. Profiling a full build
showed three costs that do not change a single output character:

* construction builds a panphon feature table (~4 s and ~100 MB per instance) that transliteration
  never uses;
* ``general_trans`` formats debug log messages (``repr(list(text))``) for every word, even with
  debug logging off;
* the post-processing rules (87 for ``kor-Hang``) are applied as one regex substitution each, for
  every word, although most rules cannot match it: their target is a literal (``nhk``, ``ŋ``) that
  the word does not contain.

:class:`FastEpitran` subclasses ``SimpleEpitran``, builds the same map, regex and rule objects
(epitran's own loaders, so the data and their parsing stay epitran's), skips the feature table,
and re-implements ``general_trans`` step for step without the log calls. Each rule is applied only
when it can match: a rule ``a -> b / X _ Y`` compiles to ``(?P<X>X)(?P<a>a)(?P<Y>Y)``; when ``a`` is a
plain literal, the rule can match only where ``a`` occurs, so ``a not in text`` means the
substitution would return ``text`` unchanged and is skipped. Rules whose target is empty or uses
regex syntax are always applied. ``tests/data/test_epitran_engine.py`` checks the output against
``SimpleEpitran`` on real PAN-X words.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections import defaultdict
from typing import Callable, Sequence

from epitran.ligaturize import ligaturize
from epitran.ppprocessor import PrePostProcessor
from epitran.puncnorm import PuncNorm
from epitran.simple import SimpleEpitran
from epitran.stripdiacritics import StripDiacritics

# Characters with a meaning in a regex: a rule target containing one is not a plain literal.
_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()")
_TARGET_OPEN, _CONTEXT_OPEN = ")(?P<a>", ")(?P<Y>"

Rule = Callable[[str], str]


def rule_literal(rule: Rule) -> str | None:
    """The literal a rule must find in a word to change it, or None if it has no such literal.

    epitran's replacement rules are closures over ``regexp`` compiled from
    ``(?P<X>X)(?P<a>a)(?P<Y>Y)``; metathesis rules and any pattern with inline flags or other
    group syntax get None (always applied).
    """
    regexp = inspect.getclosurevars(rule).nonlocals.get("regexp")
    pattern = getattr(regexp, "pattern", None)
    if not isinstance(pattern, str) or not pattern.startswith("(?P<X>"):
        return None
    if pattern.replace("(?P<", "").count("(?") or pattern.count(_TARGET_OPEN) != 1:
        return None
    target = pattern.split(_TARGET_OPEN, 1)[1]
    if target.count(_CONTEXT_OPEN) != 1:
        return None
    target = target.split(_CONTEXT_OPEN, 1)[0]
    if not target or any(ch in _REGEX_SYNTAX for ch in target):
        return None
    return target


def rule_replacement(rule: Rule) -> str | None:
    """The replacement ``b`` of an epitran rule ``a -> b / X _ Y`` (None for other rule kinds)."""
    rewrite = inspect.getclosurevars(rule).nonlocals.get("rewrite")
    if rewrite is None:
        return None
    value = inspect.getclosurevars(rewrite).nonlocals.get("b")
    return value if isinstance(value, str) else None


def gated_rules(processor: PrePostProcessor) -> tuple[tuple[str | None, Rule], ...]:
    """A processor's rules in order, each with the literal that gates it (None: always apply)."""
    return tuple((rule_literal(rule), rule) for rule in processor.rules.rules)


def apply_rules(rules: Sequence[tuple[str | None, Rule]], text: str) -> str:
    """Apply rules in order like ``Rules.apply``, skipping those whose literal is absent."""
    for literal, rule in rules:
        if literal is None or literal in text:
            text = rule(text)
    return text


class FastEpitran(SimpleEpitran):
    """``SimpleEpitran`` without the feature table, with a log-free, rule-gated ``general_trans``.

    Only forward transliteration is supported (``rev`` is not), which is all the phonemizers use.
    """

    def __init__(self, code: str) -> None:
        # Not super().__init__: that builds the feature table. These are the attributes it sets
        # with its defaults (epitran 1.35), minus ``ft``; the test compares outputs with it.
        self.rev, self.tones = False, False
        self.g2p = self._load_grapheme_to_phoneme_map(code, False)
        self.regexp = self._build_greedy_match_regex(self.g2p.keys())
        self.puncnorm = PuncNorm()
        self.preprocessor = PrePostProcessor(code, "pre", False)
        self.postprocessor = PrePostProcessor(code, "post", False)
        self.strip_diacritics = StripDiacritics(code)
        self.preproc, self.postproc, self.ligatures = True, True, False
        self.rev_preproc, self.rev_postproc = True, True
        self.nils: defaultdict[str, int] = defaultdict(int)
        self._pre = gated_rules(self.preprocessor)
        self._post = gated_rules(self.postprocessor)
        self._diacritics = frozenset(self.strip_diacritics.diacritics)

    def drop_post_rules(self, rules: frozenset[tuple[str, str]]) -> int:
        """Switch off the post rules ``a -> b`` given as ``(a, b)`` pairs (a plain literal ``a``).

        For rules a caller applies more precisely itself (Korean: on syllables, see ``ko_rules``).
        Returns how many rules were dropped, so a changed rule file cannot go unnoticed.
        """
        kept = tuple((lit, rule) for lit, rule in self._post
                     if (lit, rule_replacement(rule)) not in rules)
        dropped = len(self._post) - len(kept)
        self._post = kept
        return dropped

    def general_trans(self, text: str, filter_func: Callable[[tuple[str, bool]], bool],
                      normpunc: bool = False, ligatures: bool = False) -> str:
        """``SimpleEpitran.general_trans``, step for step, without debug logging and with gated rules."""
        text = unicodedata.normalize("NFD", text.lower())
        if self._diacritics:
            text = "".join(ch for ch in text if ch not in self._diacritics)
        if self.preproc:
            text = apply_rules(self._pre, text)
        pieces = []
        while text:
            m = self.regexp.match(text)
            if m:
                source = m.group(0)
                targets = self.g2p.get(source)
                pieces.append((targets[0] if targets else source, True))
                text = text[len(source):]
            else:
                pieces.append((text[0], False))
                self.nils[text[0]] += 2
                text = text[1:]
        text = "".join(s for s, _ in filter(filter_func, pieces))
        if self.postproc:
            text = apply_rules(self._post, text)
        if ligatures or self.ligatures:
            text = ligaturize(text)
        if normpunc:
            text = self.puncnorm.norm(text)
        return unicodedata.normalize("NFC", text)
