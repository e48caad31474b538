"""Measure the checks on faithful drafts in every fixture language, and what they catch.

For each faithful generated draft: the violations the checks raise (none should be critical),
then, for each kind of mistake the local model server makes, the draft with that mistake put in
where it has a place for one, and whether the checks report it as new against the faithful
draft. A question left unanswered is a mistake only where the faithful draft answered one.
Prints a table per language; exits 1 when a faithful draft has a critical violation, an
injected mistake goes uncaught, or a kind is made nowhere (nothing measured is no pass).

    scripts/catch-rate [--per-language N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from replay.devtools.faithful import faithful_drafts
from replay.devtools.languages import LANGUAGES
from replay.devtools.mistakes import MISTAKES, inject_mistake
from replay.models import CaseInput, Violation
from replay.verdict.checks import check
from replay.verdict.questions import questions


def main() -> int:
    """Print faithful drafts' violations and each mistake kind's injected and caught counts."""
    options = argparse.ArgumentParser(prog="scripts/catch-rate")
    options.add_argument("--per-language", type=int, default=5000)
    options.add_argument("--seed", type=int, default=11)
    args = options.parse_args()
    started = time.perf_counter()
    drafts: Counter[str] = Counter()
    critical: Counter[tuple[str, str]] = Counter()
    warnings: Counter[tuple[str, str]] = Counter()
    made: Counter[tuple[str, str]] = Counter()
    caught: Counter[tuple[str, str]] = Counter()
    missed: list[tuple[str, str, str]] = []
    already: Counter[str] = Counter()
    faithful = faithful_drafts(languages=LANGUAGES, per_language=args.per_language, seed=args.seed)
    for number, item in enumerate(faithful):
        language = item.language
        drafts[language] += 1
        before = check(item.draft, item.case)
        for violation in before:
            counter = critical if violation.severity == "critical" else warnings
            counter[(language, violation.code)] += 1
        had = {violation.key or violation.evidence for violation in before}
        for kind in MISTAKES:
            text, kind_made = inject_mistake(
                item.messages, item.draft, choice=number, kinds=(kind,), fallback=()
            )
            if kind_made != kind:
                continue  # no place for this kind in this draft
            if kind == "unanswered_question" and _answers_none(item.case, before):
                already[language] += 1
                continue  # the faithful draft answers none of the questions: nothing new to miss
            made[(language, kind)] += 1
            found = [
                v
                for v in check(text, item.case)
                if v.code == kind and (v.key or v.evidence) not in had
            ]
            if found:
                caught[(language, kind)] += 1
            else:
                missed.append((language, kind, text))
    seconds = time.perf_counter() - started
    print(f"{sum(drafts.values())} faithful drafts (seed {args.seed}) in {seconds:.0f} s")
    print(f"{'language':<9}{'drafts':>7}{'critical':>10}{'warnings':>10}")
    for language in LANGUAGES:
        crit = sum(n for (lang, _), n in critical.items() if lang == language)
        warn = sum(n for (lang, _), n in warnings.items() if lang == language)
        print(f"{language:<9}{drafts[language]:>7}{crit:>10}{warn:>10}")
    for (language, code), n in sorted(critical.items()):
        print(f"  critical {language} {code}: {n}")
    for (language, code), n in sorted(warnings.items()):
        print(f"  warning  {language} {code}: {n}")
    print(f"\n{'mistake':<24}" + "".join(f"{lang:>14}" for lang in LANGUAGES) + f"{'all':>16}")
    for kind in MISTAKES:
        cells = [_cell(caught[(lang, kind)], made[(lang, kind)]) for lang in LANGUAGES]
        total = _cell(*(sum(c[(lang, kind)] for lang in LANGUAGES) for c in (caught, made)))
        print(f"{kind:<24}" + "".join(f"{cell:>14}" for cell in cells) + f"{total:>16}")
    print("(caught/made: reported new against the faithful draft; n/a: no draft had a place)")
    unmade = [kind for kind in MISTAKES if not any(made[(lang, kind)] for lang in LANGUAGES)]
    for never in unmade:
        print(f"not measured: no draft had a place for {never}")
    print(
        "unanswered_question not made where the faithful draft already answers no question: "
        + ", ".join(f"{lang} {already[lang]}" for lang in LANGUAGES)
    )
    for language, missed_kind, text in missed[:10]:
        print(f"missed {language} {missed_kind}: {text!r}")
    return 1 if critical or missed or unmade else 0


def _cell(caught: int, made: int) -> str:
    """`caught/made`, or `n/a` where nothing was made: not measured, not a perfect score."""
    return f"{caught}/{made}" if made else "n/a"


def _answers_none(case: CaseInput, violations: list[Violation]) -> bool:
    """Whether the faithful draft leaves every question of the inbound unanswered."""
    inbound = "\n".join(part for part in (case.inbound.subject, case.inbound.body) if part)
    unanswered = [v for v in violations if v.code == "unanswered_question"]
    return len(unanswered) >= len(questions(inbound))


if __name__ == "__main__":
    sys.exit(main())
