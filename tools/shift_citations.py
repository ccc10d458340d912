"""Shift kwp-letter-1964 sentence citations by -2 after the archival header left the numbering (issue 14).

One-off migration, kept for merging branches written against the old numbering:
    python tools/shift_citations.py FILE...          rewrite 's. N', 'sentence N', adapted 's: N' in place
    python tools/shift_citations.py --check REV FILE...   each citation cites the same text as at REV
Only citations of this source are touched (not years, question numbers, or other sources' ids);
numbers above the old count (136) stay as they are; a citation of old sentence 1 or 2 (now the
archive's header) is reported and left for a person to rewrite.
"""

import difflib
import re
import subprocess
import sys
from pathlib import Path

import yaml

SHIFT, OLD_COUNT = 2, 136
SOURCE = "content/sources/kwp-letter-1964.yaml"
CITATION = re.compile(r"(?:(?<![\w-])(?P<source>[a-z0-9][a-z0-9-]*)[ \t]+)?"
                      r"\bss?\.\s*(?P<first>\d+)(?:(?P<dash>\s*[-\u2013]\s*)(?P<last>\d+))?")
PROSE = re.compile(r"\b(?P<w>[Ss]entences? )(?P<first>\d+)(?:(?P<dash>[-\u2013])(?P<last>\d+))?"
                   r"(?P<and> and (?P<third>\d+))?")
S_KEY = re.compile(r"^(?P<pre>\s*-?\s*s:\s*)(?P<val>\d+|\"\d+-\d+\"|'\d+-\d+'|\[[\d, ]+\])(?P<post>.*)$")
NAMED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


def _ours(m: re.Match) -> bool:
    return not m["source"] or m["source"] == "kwp-letter-1964" or not NAMED.fullmatch(m["source"])


def _numbers(line: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence number this line cites of the letter."""
    spans = []
    for m in CITATION.finditer(line):
        if _ours(m):
            spans += [m.span("first")] + ([m.span("last")] if m["last"] else [])
    for m in PROSE.finditer(line):
        spans += [m.span(g) for g in ("first", "last", "third") if m[g]]
    m = S_KEY.match(line)
    if m:
        spans += [(m.start("val") + d.start(), m.start("val") + d.end()) for d in re.finditer(r"\d+", m["val"])]
    return sorted(set(spans))


def shift_line(line: str, where: str, flags: list[str]) -> str:
    for start, end in reversed(_numbers(line)):
        n = int(line[start:end])
        if n <= SHIFT:
            flags.append(f"{where}: cites old sentence {n}, now the archive's header: rewrite by hand")
        elif n <= OLD_COUNT:
            line = line[:start] + str(n - SHIFT) + line[end:]
    return line


def _sentences(text: str) -> dict[int, str]:
    return {s["n"]: s["text"] for s in yaml.safe_load(text)["sentences"]}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        rev, files = argv[1], argv[2:]
        old = _sentences(subprocess.run(["git", "show", f"{rev}:{SOURCE}"], capture_output=True, text=True,
                                        check=True).stdout)
        new = _sentences(Path(SOURCE).read_text())
        bad = 0
        for name in files:
            shown = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True).stdout
            before = shown.decode("utf-8", "surrogateescape").split("\n")
            after = Path(name).read_bytes().decode("utf-8", "surrogateescape").split("\n")
            # lines that differ only in their numbers are paired; hand-rewritten lines are left to a reader
            digits = [[re.sub(r"\d+", "#", line) for line in lines] for lines in (before, after)]
            for block in difflib.SequenceMatcher(None, *digits, autojunk=False).get_matching_blocks():
                for a, b in zip(before[block.a:block.a + block.size], after[block.b:block.b + block.size]):
                    for (s, e), (t, u) in zip(_numbers(a), _numbers(b)):
                        o, n = int(a[s:e]), int(b[t:u])
                        if SHIFT < o <= OLD_COUNT and old.get(o) != new.get(n):
                            bad += 1
                            print(f"{name}: old s. {o} and new s. {n} differ")
        print(f"{bad} citations point at other text")
        return 1 if bad else 0
    flags: list[str] = []
    for name in argv:
        path = Path(name)
        raw = path.read_bytes().decode("utf-8", "surrogateescape")
        new = "\n".join(shift_line(line, f"{name}:{i}", flags) for i, line in enumerate(raw.split("\n"), 1))
        if new != raw:
            path.write_bytes(new.encode("utf-8", "surrogateescape"))
            print(f"shifted {name}")
    print("\n".join(flags), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
