"""What `list` reports: the kit's inventory as plain data."""

from __future__ import annotations

import re

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
                          "words": len(e.text.split())} for e in lesson.excerpts],
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
            lines.append(f"    excerpt {e['id']} ({where}, {e['words']} words)")
    for cls in data.get("classes", []):
        lms = cls["lms"] + (" + teacher editions for instructors" if cls["lms_teacher_files"] else "")
        lines.append(f"class   {cls['id']}: {cls['name']} ({cls['roster']} students, "
                     f"{len(cls['lessons'])} lessons; students get {cls['students_folder']}, "
                     f"LMS cartridge {cls['cartridge']} with {lms})")
    return "\n".join(lines)
