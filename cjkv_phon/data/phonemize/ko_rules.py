"""Korean pronunciation rules applied to the Hangul spelling, before epitran's ``kor-Hang`` map.

epitran maps jamo to IPA first and applies the Standard Pronunciation rules to the IPA, where a coda
ㅎ and an onset ㅎ, or a coda ㄷ and an onset ㄷ, are the same letter. Three of its rules therefore
fire where the rulebook does not apply them:

* #12-4 (coda ㅎ, ㄶ, ㅀ drop before a vowel-initial suffix: 좋아 [조아], 않아 [아나]) also deleted
  every onset ㅎ between vowels or after ㄴ ㄹ (가난하다 came out as [kananata]; the reference
  and careful speech keep a voiced [ɦ]);
* #17 (coda ㄷ ㅌ palatalise before the suffix vowel 이: 굳이 [구지], 같이 [가치], 닫히다 [다치다])
  also palatalised onset ㄷ ㅌ before ㅣ inside a morpheme (어디 came out as [ʌt͡ɕi]).

Both rules are about a coda before a suffix, i.e. across a morpheme boundary, which the spelling
shows: Korean writes a morpheme's final consonant as the coda of its own syllable (굳 + 이, not 구디).
So they are applied here, on syllables, where coda and onset differ, and the epitran rules are
switched off (:data:`EPITRAN_RULES_OFF`).

One more rule the rulebook states on the spelling: #5 ㅈ ㅉ ㅊ + ㅕ are read ㅓ (가져 [가저]).
Tensification after a nasal-final verb stem (#24: 담다 [담따], 신고 [신꼬]) is applied to the
token-final dictionary-form ending 다 (a stem ending in ㄴ ㄵ ㅁ ㄻ before 다 is a verb or adjective
stem; a noun before 다 would be the copula 이다, written with 이). Compound tensification (봄비
[봄삐]) needs a dictionary of compounds and is not applied.
"""

from __future__ import annotations

_BASE, _LAST = 0xAC00, 0xD7A3
# Jamo indices (Unicode Hangul syllable composition: ((L * 21) + V) * 28 + T).
_L_IEUNG, _L_JIEUT, _L_CHIEUT, _L_HIEUT, _L_DIGEUT = 11, 12, 14, 18, 3
_L_SSANGDIGEUT = 4
_L_SSANGJIEUT = 13
_V_I, _V_YEO, _V_EO, _V_A = 20, 6, 4, 0
_T_NONE, _T_DIGEUT, _T_TIEUT, _T_RIEUL_TIEUT, _T_RIEUL = 0, 7, 25, 13, 8
_T_NIEUN, _T_NIEUN_HIEUT, _T_RIEUL_HIEUT, _T_HIEUT = 4, 6, 15, 27
_T_NIEUN_JIEUT, _T_MIEUM, _T_RIEUL_MIEUM = 5, 16, 10
_NASAL_STEM_CODAS = frozenset({_T_NIEUN, _T_NIEUN_JIEUT, _T_MIEUM, _T_RIEUL_MIEUM})
# Coda ㅎ, ㄶ, ㅀ before a vowel: the ㅎ drops (#12-4), leaving nothing, ㄴ, ㄹ.
_H_CODA_DROP = {_T_HIEUT: _T_NONE, _T_NIEUN_HIEUT: _T_NIEUN, _T_RIEUL_HIEUT: _T_RIEUL}

# epitran ``kor-Hang`` post rules replaced by the rules above: (target literal, replacement).
EPITRAN_RULES_OFF: frozenset[tuple[str, str]] = frozenset({
    ("nh", "n"), ("lh", "l"), ("h", ""),  # #12-4, now on codas only
    ("t", "t͡ɕ"), ("tʰ", "t͡ɕʰ"), ("thi", "t͡ɕʰi"),  # #17, now on codas only
})


def _split(ch: str) -> tuple[int, int, int] | None:
    cp = ord(ch)
    if not _BASE <= cp <= _LAST:
        return None
    index = cp - _BASE
    return index // 588, (index % 588) // 28, index % 28


def _join(lead: int, vowel: int, tail: int) -> str:
    return chr(_BASE + (lead * 21 + vowel) * 28 + tail)


def apply_spelling_rules(word: str) -> str:
    """The Hangul spelling rewritten as pronounced by the rules above (other text unchanged).

    Example:
        >>> apply_spelling_rules("같이"), apply_spelling_rules("좋아"), apply_spelling_rules("가져")
        ('가치', '조아', '가저')
    """
    syllables = [_split(ch) for ch in word]
    if not any(syllables):
        return word
    out = list(word)
    parts = [list(s) if s else None for s in syllables]
    for i, cur in enumerate(parts):
        if cur is None:
            continue
        lead, vowel, tail = cur
        if lead in (_L_JIEUT, _L_SSANGJIEUT, _L_CHIEUT) and vowel == _V_YEO:
            cur[1] = _V_EO  # #5: 져 쪄 쳐 -> 저 쩌 처
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if nxt is None:
            continue
        if tail in _H_CODA_DROP and nxt[0] == _L_IEUNG:
            cur[2] = _H_CODA_DROP[tail]  # #12-4: 좋아 -> 조아, 않아 -> 안아
        elif nxt[1] == _V_I and nxt[0] in (_L_IEUNG, _L_HIEUT) and tail in (
                _T_DIGEUT, _T_TIEUT, _T_RIEUL_TIEUT):
            # #17: 굳이 -> 구지, 같이 -> 가치, 닫히다 -> 다치다, 핥이다 -> 할치다
            aspirated = tail != _T_DIGEUT or nxt[0] == _L_HIEUT
            cur[2] = _T_RIEUL if tail == _T_RIEUL_TIEUT else _T_NONE
            nxt[0] = _L_CHIEUT if aspirated else _L_JIEUT
        elif i + 2 == len(parts) and tail in _NASAL_STEM_CODAS and nxt[0] == _L_DIGEUT \
                and nxt[1] == _V_A and nxt[2] == _T_NONE:
            nxt[0] = _L_SSANGDIGEUT  # #24: 담다 -> 담따, 앉다 -> 앉따
    for i, cur in enumerate(parts):
        if cur is not None:
            out[i] = _join(*cur)
    return "".join(out)
