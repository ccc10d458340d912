"""What `list` reports: the kit's inventory as plain data."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pyphen

from .content import Kit

_HYPHENATOR = pyphen.Pyphen(lang="en_US")


def plain_text(markdown: str) -> str:
    """Markdown reduced to prose for word counts and readability."""
    text = re.sub(r"^#+\s*", "", markdown, flags=re.M)
    text = re.sub(r"^[ \t]*[-*][ \t]+", "", text, flags=re.M)
    return re.sub(r"[*_`]", "", text).strip()


def flesch_kincaid(text: str) -> float:
    """Flesch-Kincaid grade level, syllables counted with pyphen's hyphenation dictionary."""
    words = re.findall(r"[A-Za-z]+(?:['’][A-Za-z]+)?", text)
    sentences = max(1, len(re.findall(r"[.!?]+(?=\s|$)", text)))
    if not words:
        return 0.0
    syllables = sum(len(_HYPHENATOR.positions(w.lower())) + 1 for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def inventory(kit: Kit) -> dict:
    """Sources, lessons (with resolved excerpts) and context readings."""
    return {
        "sources": [{"id": s.id, "title": s.title, "date": s.date, "sentences": len(s.sentences),
                     "repairs": len(s.repairs)} for s in kit.sources.values()],
        "lessons": [{
            "id": lesson.id,
            "title": lesson.spec.title,
            "source": lesson.source.id,
            "grade_band": lesson.spec.grade_band,
            "duration": lesson.spec.duration,
            "file": lesson.path,
            "excerpts": [{"id": e.id, "title": e.title, "text": e.text, "sentences": [e.first, e.last],
                          "words": len(e.text.split()), "adapted_grade": e.grade} for e in lesson.excerpts],
            "questions": [{"id": q.id, "type": q.type, "difficulty": q.difficulty, "prompt": q.prompt,
                           "excerpts": list(q.excerpts), "answer_lines": q.answer_lines,
                           "notes": {"answer": q.notes.answer, "evidence": list(q.notes.evidence),
                                     "look_for": q.notes.look_for}} for q in lesson.questions],
            "glossary": [{"term": t.term, "definition": t.definition, "original": t.original}
                         for t in lesson.glossary],
            "timeline": [{"date": e.date, "end": e.end, "event": e.event} for e in lesson.timeline],
            "context": [context_entry(c) for c in lesson.context],
        } for lesson in kit.lessons],
        "context": [context_entry(c) for c in kit.contexts.values()],
        "classes": [{
            "id": c.id, "name": c.profile.name, "teacher": c.profile.teacher, "paper": c.profile.paper,
            "large_print": c.profile.large_print, "roster": len(c.students), "shuffle": c.profile.shuffle,
            "teacher_edition": c.profile.teacher_edition, "lms": c.profile.lms,
            "lms_teacher_files": c.profile.lms_teacher_files,
            "students_folder": f"{c.id}/students/", "teacher_folder": f"{c.id}/teacher/", "cartridge": f"{c.id}.imscc",
            "lessons": [{"id": item.lesson.id,
                         "questions": [{"id": q.id, "prompt": q.prompt, "type": q.type, "difficulty": q.difficulty}
                                       for q in item.lesson.questions]} for item in c.lessons],
        } for c in kit.classes],
        "glossary": [{"term": t.term, "definition": t.definition, "original": t.original} for t in kit.glossary.terms],
        "timeline": [{"date": e.date, "end": e.end, "event": e.event} for e in kit.timeline.events],
    }


def context_entry(context) -> dict:
    text = plain_text(context.markdown)
    return {"id": context.id, "title": context.title, "words": context.words,
            "flesch_kincaid": round(flesch_kincaid(text), 1), "text": context.markdown}


def human(data: dict) -> str:
    """The inventory as a short report."""
    lines = []
    for s in data["sources"]:
        lines.append(f"source  {s['id']}: {s['title']} ({s['date']}; {s['sentences']} sentences, "
                     f"{s['repairs']} repairs)")
    for c in data["context"]:
        lines.append(f"context {c['id']}: {c['title']} ({c['words']} words, "
                     f"Flesch-Kincaid grade {c['flesch_kincaid']})")
    lines.append(f"glossary: {len(data['glossary'])} terms; timeline: {len(data['timeline'])} events")
    for lesson in data["lessons"]:
        types = sorted({q["type"] for q in lesson["questions"]})
        lines.append(f"lesson  {lesson['id']}: {lesson['title']} ({lesson['duration']} min, "
                     f"{len(lesson['excerpts'])} excerpts, {len(lesson['questions'])} questions of "
                     f"{len(types)} types)")
        for e in lesson["excerpts"]:
            first, last = e["sentences"]
            where = f"s. {first}" if first == last else f"s. {first}-{last}"
            adapted = f", adapted at grade {e['adapted_grade']}" if e.get("adapted_grade") is not None else ""
            lines.append(f"    excerpt {e['id']} ({where}, {e['words']} words{adapted})")
    for cls in data.get("classes", []):
        lms = cls["lms"] + (" + teacher editions for instructors" if cls["lms_teacher_files"] else "")
        lines.append(f"class   {cls['id']}: {cls['name']} ({cls['roster']} students, "
                     f"{len(cls['lessons'])} lessons; students get {cls['students_folder']}, "
                     f"LMS cartridge {cls['cartridge']} with {lms})")
    return "\n".join(lines)


def source_sentences(root: Path, source_id: str) -> dict:
    """One source's numbered sentences with the part and block each is in (`list SOURCE-ID`)."""
    from . import yamlfile
    from .content import content_files
    from .errors import Collector, KitError, Problem, display_path
    from .models import ID_RE, Source
    from .validate import validate

    folder = Path(root) / "sources"
    known = [f.stem for f in content_files(folder, "*.yaml", Collector(), Path(root))]
    if not ID_RE.fullmatch(source_id) or source_id not in known:
        close = difflib.get_close_matches(source_id, known, n=1, cutoff=0.5)
        raise KitError(Problem(display_path(folder), 1, 1, f"no source '{source_id}' in this folder",
                               f"did you mean '{close[0]}'?" if close else
                               f"known sources: {', '.join(known) or 'none'}"))
    file = folder / f"{source_id}.yaml"
    source = validate(yamlfile.load(file, display_path(file, root)), Source)
    where: dict[int, tuple[str, str]] = {}
    header = []
    for part in source.structure:
        for block in part.blocks:
            name = block.kind + (f" {block.number}" if block.number is not None else "") + \
                (f": {block.label}" if block.label else "")
            if block.sentences is None:  # an archival header block: text, not numbered sentences
                header.append({"part": part.title, "block": block.kind, "text": block.text})
                continue
            for n in range(block.sentences[0], block.sentences[1] + 1):
                where[n] = (part.title, name)
    return {"id": source.id, "title": source.title, "date": source.date, "header": header,
            "sentences": [{"n": s.n, "text": s.text, "part": where.get(s.n, ("", ""))[0],
                           "block": where.get(s.n, ("", ""))[1]} for s in source.sentences]}


def human_sentences(data: dict) -> str:
    """A source's sentences, numbered as citations use them, under their parts and blocks."""
    count = len(data["sentences"])
    lines = [f"source {data['id']}: {data['title']} ({data['date']}; {count} sentences)",
             f"cite 's. 41' or 's. 41-44' in a lesson on this source, '{data['id']} s. 41' in any other lesson"]
    part = block = None
    width = len(str(count))
    for item in data["header"]:
        if item["part"] != part:
            lines.append(f"\n{item['part']} (not numbered, not citable as sentences)")
        part = item["part"]
        lines.append(f"  [{item['block']}] {item['text']}")
    for s in data["sentences"]:
        if s["part"] != part and s["part"]:
            lines.append(f"\n{s['part']}")
        if (s["part"], s["block"]) != (part, block) and s["block"]:
            lines.append(f"  [{s['block']}]")
        part, block = s["part"], s["block"]
        lines.append(f"  {s['n']:>{width}}  {s['text']}")
    return "\n".join(lines)
