"""Import a Wilson Center Digital Archive transcription into a reviewable source file."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from .errors import KitError, Problem, display_path

SITE_HEADER = re.compile(
    r"\s*Digital Archive\s+International History Declassified\s+digitalarchive\.wilsoncenter\.org\s*")
HEADER_LABELS = ("Citation", "Summary", "Credits", "Original Language", "Contents", "Original Archive",
                 "Author", "Authors", "Keywords", "Document Type", "Rights", "Record ID", "Subject")
LABEL_RE = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(x) for x in HEADER_LABELS) + r"):\s")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_RE = re.compile(rf"^(?:(?P<month>{MONTHS})(?: (?P<day>\d{{1,2}}))?,? )?(?P<year>\d{{4}})\s+(?P<rest>.*)$", re.S)
ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "no", "nos", "vs", "cf", "gen", "col", "prof", "cde",
                 "cdes", "comr", "lt", "capt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
                 "sept", "oct", "nov", "dec", "e.g", "i.e", "approx", "ca", "p", "pp", "vol"}
TERMINAL = ".!?:;\"')]\u201d\u2019"
SUSPENDED = {"and", "or", "nor", "to"}


@dataclass
class Unit:
    """One numbered sentence (or field line) and the block it belongs to."""

    text: str
    part: str
    block: int


@dataclass
class Parsed:
    """Everything the importer found, before it is written out."""

    meta: dict
    pages: list[str]
    repairs: list[dict] = field(default_factory=list)
    parts: list[dict] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def _fail(path: str, message: str, hint: str, line: int = 1) -> KitError:
    return KitError(Problem(path, line, 1, message, hint))


def parse_transcription(text: str, path: str) -> Parsed:
    """Split the file into debris, header and pages, then repair and structure the text."""
    lines = text.splitlines()
    marker = next((i for i, line in enumerate(lines) if line.strip() == "Transcription:"), None)
    if marker is None:
        raise _fail(path, "not a Wilson Center Digital Archive transcription: no 'Transcription:' line",
                    "import the page's text as saved, with its 'Transcription:' line before the document")
    chunks = [" ".join(c.split()) for c in re.split(r"\n\s*\n", "\n".join(lines[marker + 1:]))]
    chunks = [c for c in chunks if c]
    if not chunks or not SITE_HEADER.match(chunks[0]):
        raise _fail(path, "no archive header after 'Transcription:'",
                    "the first block must start with 'Digital Archive International History Declassified'",
                    marker + 2)
    meta = _header(SITE_HEADER.sub("", chunks[0], count=1), path, marker + 2)
    pages = [SITE_HEADER.sub(" ", c).strip() for c in chunks[1:]]
    pages = [p for p in pages if p]
    if not pages:
        raise _fail(path, "the archive header is followed by no document text",
                    "the file must hold the document's pages after the header")
    meta["debris_lines_dropped"] = sum(1 for line in lines[:marker] if line.strip())
    meta["import_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    parsed = Parsed(meta, [chunks[0]] + [c for c in chunks[1:]])
    body = _join_pages(pages, parsed.repairs)
    body = _mend_words(body, parsed.repairs)
    header, body = _archival_header(body, meta)
    if header:
        parsed.parts.append({"id": "archival-header", "title": "Archival header", "blocks": header})
    units = _structure(body, meta.get("signature", ""), parsed)
    parsed.sentences = [u.text for u in units]
    _locate_repairs(parsed)
    return parsed


def _header(text: str, path: str, line: int) -> dict:
    """Title, date and labelled fields of the archive header."""
    pieces = LABEL_RE.split(text)
    head, fields = pieces[0].strip(), dict(zip(pieces[1::2], (p.strip() for p in pieces[2::2])))
    if "Citation" not in fields:
        raise _fail(path, "the archive header has no 'Citation:' field",
                    "the header must contain the archive's Citation: line", line)
    match = DATE_RE.match(head)
    if not match:
        raise _fail(path, f"cannot read the document date at the start of the header: {head[:60]!r}",
                    "the header must start with a date such as 'September 11, 1964'", line)
    year, month, day = match["year"], match["month"], match["day"]
    if month:
        number = datetime.strptime(month, "%B").month
        date = f"{year}-{number:02d}" + (f"-{int(day):02d}" if day else "")
    else:
        date = year
    citation = fields["Citation"]
    url = re.search(r"https?://\S+", citation)
    translator = re.search(r"Translated (?:for [^.]*? )?by ([^.]+?)\.", citation)
    archive = re.search(r", ([^,]*Digital Archive), (.+?)\.(?:\s|$)", citation)
    meta = {
        "title": match["rest"].strip(),
        "date": date,
        "citation": citation,
        "archive": archive[1] if archive else "",
        "signature": fields.get("Original Archive") or (archive[2] if archive else ""),
        "url": url[0].rstrip(".") if url else "",
        "summary": fields.get("Summary", ""),
        "credits": fields.get("Credits", ""),
        "original_language": fields.get("Original Language", ""),
        "contents": fields.get("Contents", ""),
        "translator": translator[1].strip() if translator else "",
    }
    extra = {k: v for k, v in fields.items()
             if k not in {"Citation", "Summary", "Credits", "Original Language", "Contents", "Original Archive"}}
    if extra:
        meta["other_fields"] = extra
    return meta


def _archival_header(body: str, meta: dict) -> tuple[list[dict], str]:
    """Split off the archive's header when it repeats what the site header said: department and
    signature, issuing office, place and date, title. A memo form (type line, To:/From:/Date:) after
    the signature is the document's own text and stays numbered, as in the shipped letter."""
    blocks, text = [], body
    signature = meta.get("signature", "")
    mark = f"Archival Signature: {signature}"
    if signature and mark in text[:400]:
        before, after = text.split(mark, 1)
        if before.strip():
            blocks.append({"kind": "archive-department", "text": before.strip()})
        blocks.append({"kind": "archival-signature", "label": "Archival Signature", "text": mark})
        text = after.strip()
        if re.match(r"(?:[^.!?]{0,80}?\s)?To: .{1,120}? From: ", text):
            return blocks, text  # the memo's own date line is not a repeated header
    dateline = re.match(rf"(.{{0,120}}?)\s*\b([A-Z][\w'-]+), (\d{{1,2}})\.? ({MONTHS}) (\d{{4}})\b\s*", text)
    if dateline and _same_day(dateline, meta.get("date", "")) and not re.search(r"[.!?]\s", dateline[1]):
        if dateline[1].strip():
            blocks.append({"kind": "issuing-office", "text": dateline[1].strip()})
        blocks.append({"kind": "place-and-date", "text": f"{dateline[2]}, {dateline[3]} {dateline[4]} {dateline[5]}"})
        text = text[dateline.end():]
    title = meta.get("title", "")
    if title and blocks and text.startswith(title) and text[len(title):len(title) + 1] in ("", " "):
        blocks.append({"kind": "title", "text": title})
        text = text[len(title):].strip()
    if not blocks or not any(b["kind"] in ("archival-signature", "place-and-date", "title") for b in blocks):
        return [], body
    return blocks, text


def _same_day(match: re.Match, date: str) -> bool:
    """Whether a 'Place, 14 May 1965' line repeats the document date parsed from the site header."""
    month = datetime.strptime(match[4], "%B").month
    return date == f"{match[5]}-{month:02d}-{int(match[3]):02d}"


def _join_pages(pages: list[str], repairs: list[dict]) -> str:
    """Rejoin words and sentences that a page break cut in two."""
    text = pages[0]
    for number, page in enumerate(pages[1:], start=3):  # page 1 is the archive's header page
        tail, head = " ".join(text.split(" ")[-3:]), " ".join(page.split(" ")[:3])
        if re.search(r"\w-$", text) and re.match(r"[a-z]", page):
            repairs.append({"kind": "word split across pages", "page": number,
                            "original": f"{tail} / {head}", "repaired": tail[:-1] + head})
            text = text[:-1] + page
        elif text[-1] not in TERMINAL:
            repairs.append({"kind": "sentence split across pages", "page": number,
                            "original": f"{tail} / {head}", "repaired": f"{tail} {head}"})
            text = f"{text} {page}"
        else:
            text = f"{text} {page}"
    return text


def _mend_words(text: str, repairs: list[dict]) -> str:
    """Mend words the transcription broke: 'Marxism- Leninism', 'state-tostate'."""
    def record(m: re.Match, kind: str, repaired: str) -> str:
        before = " ".join(m.string[:m.start()].split(" ")[-3:])
        after = " ".join(m.string[m.end():].split(" ")[:3])
        repairs.append({"kind": kind, "original": f"{before}{m[0]}{after}",
                        "repaired": f"{before}{repaired}{after}", "word": repaired})
        return repaired

    def spaced(m: re.Match) -> str:
        if m[2].lower() in SUSPENDED:
            return m[0]
        return record(m, "space inside hyphenated word", f"{m[1]}-{m[2]}")

    def glued(m: re.Match) -> str:
        return record(m, "hyphen lost inside compound", f"{m[1]}-{m[2]}-{m[3]}")

    text = re.sub(r"\b([A-Za-z]+)- ([A-Za-z]+)\b", spaced, text)
    return re.sub(r"\b([A-Za-z]+)-(to|by|for|in|on|and)(\1)\b", glued, text, flags=re.I)


def _split_sentences(text: str) -> list[str]:
    """Sentences of a prose block, keeping abbreviations and initials intact."""
    out, start = [], 0
    lead = re.match(r"\d{1,2}\. ", text)
    for m in re.finditer(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])", text):
        word = re.search(r"(\S+)[.!?]\S*$", text[start:m.start() + 1])
        token = word[1].lower().strip("(\"'") if word else ""
        if lead and m.start() < lead.end():
            continue
        if text[m.start()] == "." and (token in ABBREVIATIONS or re.fullmatch(r"[a-z](\.[a-z])*", token)):
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _structure(body: str, signature: str, parsed: Parsed) -> list[Unit]:
    """Find parts (cover note, letter) and their blocks; number sentences through the document."""
    pieces = re.split(r"(?<=\S) (Attachment|Enclosure)(?= [A-Z])", body, maxsplit=1)
    if len(pieces) == 3:
        cover, marker, rest = pieces
        letter_blocks = _blocks(rest.strip(), signature)
        is_letter = any(kind == "salutation" for kind, _, _ in letter_blocks)
        named = [("cover-note", "Cover note", _blocks(cover.strip(), signature) + [("attachment-marker", marker, {})]),
                 ("letter" if is_letter else "attachment", "Letter" if is_letter else "Attachment", letter_blocks)]
    else:
        blocks = _blocks(body, signature)
        is_letter = any(kind == "salutation" for kind, _, _ in blocks)
        named = [("letter" if is_letter else "document", "Letter" if is_letter else "Document", blocks)]
    units: list[Unit] = []
    for part_id, title, blocks in named:
        part = {"id": part_id, "title": title, "blocks": []}
        for kind, text, extra in blocks:
            first = len(units) + 1
            prose = kind in {"opening", "body", "point", "closing-text"}
            for sentence in (_split_sentences(text) if prose else [text]):
                units.append(Unit(sentence, part_id, len(part["blocks"])))
            part["blocks"].append({"kind": kind, **extra, "sentences": [first, len(units)]})
        parsed.parts.append(part)
    return units


def _blocks(text: str, signature: str) -> list[tuple[str, str, dict]]:
    """Cut one part into labelled blocks: letterhead, fields, salutation, body or points, closing."""
    head: list[tuple[str, str, dict]] = []
    if signature and f"Archival Signature: {signature}" in text:
        before, after = text.split(f"Archival Signature: {signature}", 1)
        if before.strip():
            head.append(("letterhead", before.strip(), {}))
        head.append(("field", f"Archival Signature: {signature}", {"label": "Archival Signature"}))
        text = after.strip()
    memo = re.match(r"(.*?)\s*\bTo: (.+?) From: (.+?) Date: (\d{1,2} [A-Z][a-z]+ \d{4})\s*", text)
    if memo:
        if memo[1]:
            head.append(("heading", memo[1], {}))
        for label, value in (("To", memo[2]), ("From", memo[3]), ("Date", memo[4])):
            head.append(("field", f"{label}: {value}", {"label": label}))
        text = text[memo.end():]
    salutation = re.search(r"\bDear [^!.,:]{1,80}[!,:]", text)
    if salutation and salutation.start() < 400:
        if text[:salutation.start()].strip():
            head.append(("heading", text[:salutation.start()].strip(), {}))
        head.append(("salutation", salutation[0], {}))
        text = text[salutation.end():].strip()
    tail: list[tuple[str, str, dict]] = []
    dateline = re.search(r"\s([A-Z][\w'-]+, \d{1,2} [A-Z][a-z]+ \d{4})\.?$", text)
    if dateline:
        tail.append(("dateline", dateline[1], {}))
        text = text[:dateline.start()]
    closing = list(re.finditer(r"\b(?:With [a-z]+ (?:and [a-z]+ )?greetings|Yours (?:sincerely|faithfully)"
                               r"|Sincerely)\b,?", text))
    if closing:
        last = closing[-1]
        signed = text[last.end():].strip()
        tail = [("closing", last[0], {})] + ([("signature", signed, {})] if signed else []) + tail
        text = text[:last.start()].strip()
    return head + _points(text) + tail


def _points(text: str) -> list[tuple[str, str, dict]]:
    """Opening plus numbered points 1, 2, 3 ... when the text has them, else one body block."""
    marks, expected = [], 1
    for m in re.finditer(r"(?:^|(?<=[.!?:\"\u201d] ))(\d{1,2})\. (?=[A-Z])", text):
        if int(m[1]) == expected:
            marks.append(m)
            expected += 1
    if len(marks) < 2:
        return [("body", text, {})] if text else []
    out = [("opening", text[:marks[0].start()].strip(), {})] if marks[0].start() else []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append(("point", text[m.start():end].strip(), {"number": int(m[1])}))
    return out


def _locate_repairs(parsed: Parsed) -> None:
    """Give each repair the number of the sentence that now holds it."""
    text = " ".join(parsed.sentences)
    starts = list(itertools.accumulate(len(s) + 1 for s in parsed.sentences))
    for repair in parsed.repairs:
        at = text.find(repair["repaired"])
        if at < 0:
            at = text.find(repair.get("word", repair["repaired"]))
        if at >= 0:
            repair["sentence"] = bisect.bisect_right(starts, at) + 1


def to_yaml_data(parsed: Parsed, source_id: str, imported_from: str) -> dict:
    """The stored form: metadata, repairs, structure, numbered sentences, original pages."""
    return {
        "id": source_id,
        **{k: v for k, v in parsed.meta.items() if k not in {"debris_lines_dropped", "import_sha256"}},
        "imported_from": imported_from,
        "import": {"sha256": parsed.meta["import_sha256"],
                   "debris_lines_dropped": parsed.meta["debris_lines_dropped"],
                   "pages": len(parsed.pages)},
        "repairs": parsed.repairs,
        "structure": parsed.parts,
        "sentences": [{"n": n, "text": s} for n, s in enumerate(parsed.sentences, start=1)],
        "original_pages": parsed.pages,
    }


def import_source(file: Path, source_id: str, content: Path, force: bool = False) -> Path:
    """Read a transcription and store it as content/sources/<id>.yaml (over an old one only with `force`)."""
    from .models import _check_id
    from .write import atomic_write, inside
    from .yamlfile import read_text

    shown = str(file)
    try:
        _check_id(source_id)
    except ValueError as exc:
        raise KitError(Problem("--id", 1, 1, f"source id '{source_id[:80]}' is not valid: {exc}",
                               "use lowercase letters, digits and hyphens, e.g. kwp-letter-1964"))
    target = inside(content, f"sources/{source_id}.yaml")
    old = None
    if target.exists() or target.is_symlink():
        if not force:
            raise KitError(Problem(display_path(target), 1, 1, f"source '{source_id}' exists already",
                                   "pass --force to import over it (its reviewed repairs are kept), or pick "
                                   "another --id"))
        from .yamlfile import load
        old = load(target, display_path(target), content)
    if not file.exists():
        raise KitError(Problem(shown, 1, 1, "file not found", "check the path"))
    parsed = parse_transcription(read_text(file, shown, limit=5_000_000), shown)
    data = to_yaml_data(parsed, source_id, file.name)
    if old is not None:
        _keep_reviewed(old, data)
    text = ("# Imported by `python build.py import-source`. Review the repairs; edit sentences only to fix\n"
            "# transcription errors, and record each change under repairs.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    atomic_write(target, text)
    return target


def _keep_reviewed(old, data: dict) -> None:
    """Repairs a reviewer recorded in the old file (not made by the importer) are applied again and kept."""
    made = {(r.get("kind"), r.get("original"), r.get("repaired")) for r in data["repairs"]}
    sentences = data["sentences"]
    problems = []
    repairs = old.data.get("repairs") if isinstance(old.data, dict) else None
    for i, repair in enumerate(repairs if isinstance(repairs, list) else []):
        if not isinstance(repair, dict) or (repair.get("kind"), repair.get("original"), repair.get("repaired")) in made:
            continue
        original, repaired = repair.get("original"), repair.get("repaired")
        number = repair.get("sentence")
        order = ([number - 1] if isinstance(number, int) and 0 < number <= len(sentences) else []) + \
            list(range(len(sentences)))
        at = next((n for n in order if isinstance(original, str) and original and original in sentences[n]["text"]),
                  None)
        if at is None or not isinstance(repaired, str):
            problems.append(old.problem(("repairs", i), "this reviewed repair no longer applies: its original text "
                                        "is not in the new import", "update or remove the repair in the old file, "
                                        "then import again with --force"))
            continue
        sentences[at]["text"] = sentences[at]["text"].replace(original, repaired, 1)
        data["repairs"].append({**repair, "sentence": at + 1})
    if problems:
        raise KitError(problems)
