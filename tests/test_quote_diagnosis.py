"""Property tests: every one-word change to any shipped excerpt is caught and explained exactly.

For each excerpt of the shipped kit (and each sentence run of a second imported document) a word is
replaced, deleted, inserted, or two neighbours are swapped; the message must name the changed words,
the source's words at that place, and the excerpt's own line and column in the lesson file.
"""

import copy
import functools
import re

import pytest
import yaml
from hypothesis import assume, given, settings, strategies as st

from kit import content as kc, yamlfile
from kit.errors import Collector
from kit.importer import parse_transcription, to_yaml_data
from kit.models import Glossary, LessonSpec, Source, Timeline
from kit.quotes import QuoteError, SourceText, normalize
from kit.validate import validate

from .conftest import CASES, FIXTURES, ROOT

WORD = re.compile(r"\[[^\[\]]*\]|\w+(?:['\u2019-]\w+)*|\.\.\.|[^\w\s]")
FRESH = ["zorbled", "quimble", "flarn", "vostik", "plindor"]
OPS = ["replace", "delete", "insert", "swap"]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _kit():
    kit = kc.load_kit(ROOT / "content")
    texts = {sid: SourceText([s.text for s in src.sentences]) for sid, src in kit.sources.items()}
    return kit, texts


@functools.cache
def _raw(lesson_id: str) -> dict:
    return yaml.load((ROOT / "content" / "lessons" / f"{lesson_id}.yaml").read_text("utf-8"), Loader=LOADER)


def _dump(data: dict) -> str:
    return yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=10**9)


def _excerpts(kit):
    out = []
    for lesson in kit.lessons:
        for i, ex in enumerate(lesson.spec.excerpts):
            out.append((lesson, i, "quote" if ex.quote is not None else "from"))
    return out


def _mutate(text: str, op: str, data, fresh: str):
    """Change one word (two for a swap) inside a run of words; returns (new text, said, has)."""
    tokens = list(WORD.finditer(text))
    word = [t for t in tokens if re.fullmatch(r"\w+(?:['\u2019-]\w+)*", t[0])]
    # positions inside a part: not next to an omission or bracket, where a change would still be a quote
    inner = [k for k, t in enumerate(tokens) if t in word and 0 < k < len(tokens) - 1
             and not tokens[k - 1][0].startswith(("[", "...")) and not tokens[k + 1][0].startswith(("[", "..."))]
    if op == "replace":
        t = word[data.draw(st.integers(0, len(word) - 1))]
        return text[:t.start()] + fresh + text[t.end():], fresh, t[0]
    if op == "delete":
        assume(inner)
        t = tokens[data.draw(st.sampled_from(inner))]
        return text[:t.start()].rstrip() + " " + text[t.end():].lstrip(), "", t[0]
    if op == "insert":
        assume(inner)
        t = tokens[data.draw(st.sampled_from(inner))]
        assume(text[t.end():t.end() + 1] == " " and tokens[tokens.index(t) + 1] in word)
        return text[:t.end()] + " " + fresh + text[t.end():], fresh, ""
    pairs = [(tokens[k], tokens[k + 1]) for k in inner if k + 1 in inner
             and text[tokens[k].end():tokens[k + 1].start()] == " " and tokens[k][0].casefold() != tokens[k + 1][0].casefold()]
    assume(pairs)
    a, b = pairs[data.draw(st.integers(0, len(pairs) - 1))]
    return text[:a.start()] + f"{b[0]} {a[0]}" + text[b.end():], f"{b[0]} {a[0]}", f"{a[0]} {b[0]}"


def _expected_phrase(said: str, has: str) -> str:
    if said and has:
        return f"the quote has '{said}' where the source has '{has}'"
    return f"the quote leaves out '{has}'" if has else f"the quote adds '{said}'"


def _fresh(data, text: str) -> str:
    word = data.draw(st.sampled_from(FRESH))
    assert word not in text
    return word


@settings(max_examples=400)
@given(st.data())
def test_every_shipped_excerpt_names_the_changed_word(data):
    kit, texts = _kit()
    excerpts = _excerpts(kit)
    lesson, index, key = excerpts[data.draw(st.integers(0, len(excerpts) - 1), label="excerpt")]
    op = data.draw(st.sampled_from(OPS))
    raw = copy.deepcopy(_raw(lesson.id))
    original = raw["excerpts"][index][key]
    changed, said, has = _mutate(original, op, data, _fresh(data, texts[lesson.source.id].text))
    raw["excerpts"][index][key] = changed
    text = _dump(raw)
    doc = yamlfile.parse(text, "lesson.yaml")
    spec = validate(doc, LessonSpec)
    problems = Collector()
    sources = {sid: (src, None) for sid, src in kit.sources.items()}
    kc._resolve(spec, doc, sources, texts, kit.contexts, kit.glossary, kit.timeline, problems, set())
    mine = [p for p in problems.problems if f"excerpt '{spec.excerpts[index].id}'" in p.message]
    assume(mine)  # a change can leave words that stand in the source elsewhere; then nothing to explain
    CASES[f"shipped excerpts ({op})"] += 1
    (problem,) = mine
    assert normalize(problem.hint).count(normalize(_expected_phrase(said, has))) == 1, (changed, problem.hint)
    lines = text.splitlines()
    ids = [n for n, line in enumerate(lines) if line.strip() == f"- id: {spec.excerpts[index].id}"]
    at = next(n for n in range(ids[-1], len(lines)) if lines[n].lstrip().startswith(f"{key}: "))
    assert (problem.line, problem.col) == (at + 1, lines[at].index(f"{key}: ") + len(key) + 3)


REPORT_ID = "coop-report-1965"
REPORT_SOURCE = Source.model_validate(to_yaml_data(parse_transcription(
    (FIXTURES / "importer" / "report_1965.txt").read_text("utf-8"), "report.txt"), REPORT_ID, "report_1965.txt"))
REPORT = SourceText([s.text for s in REPORT_SOURCE.sentences])


def _report_lesson(quote: str) -> str:
    """A lesson on the second document whose only excerpt is `quote`."""
    return _dump({
        "id": "report", "title": "A report", "grade_band": "9-10", "duration": 45, "source": REPORT_ID,
        "objectives": ["Read a report"], "excerpts": [{"id": "part", "quote": quote}],
        "questions": [{"id": "q", "type": "comprehension", "difficulty": "easy", "prompt": "What happened?",
                       "excerpts": ["part"], "notes": {"answer": "A visit.", "evidence": ["s. 1"]}}],
    })


@settings(max_examples=200)
@given(st.data())
def test_a_second_imported_document_names_the_changed_word(data):
    first = data.draw(st.integers(1, len(REPORT.sentences)))
    last = data.draw(st.integers(first, min(len(REPORT.sentences), first + 2)))
    quote = " ".join(REPORT.sentences[first - 1:last])
    assume(REPORT.text.count(quote) == 1)
    op = data.draw(st.sampled_from(OPS))
    changed, said, has = _mutate(quote, op, data, _fresh(data, REPORT.text))
    text = _report_lesson(changed)
    doc = yamlfile.parse(text, "report.yaml")
    problems = Collector()
    kc._resolve(validate(doc, LessonSpec), doc, {REPORT_ID: (REPORT_SOURCE, None)}, {REPORT_ID: REPORT},
                {}, Glossary(), Timeline(), problems, set())
    assume(problems.problems)
    CASES[f"second document ({op})"] += 1
    (problem,) = problems.problems
    assert normalize(problem.hint).count(normalize(_expected_phrase(said, has))) == 1, (changed, problem.hint)
    assert re.search(rf"closest passage \(s\. {first}(-\d+)?\)", problem.hint), problem.hint
    at = next(n for n, line in enumerate(text.splitlines()) if line.lstrip().startswith("quote: "))
    assert (problem.line, problem.col) == (at + 1, text.splitlines()[at].index("quote: ") + 8)


def test_the_issue_example_on_an_imported_report():
    with pytest.raises(QuoteError) as err:
        REPORT.find_quote("Today the cooperative shows heavy influences of the methods introduced in recent years.")
    assert "the quote has 'heavy' where the source has 'strong'" in err.value.hint
    assert 'closest passage (s. 1): "Today the cooperative' in err.value.hint
