"""The source importer on the real seed file and on a second document of the same archive."""

import yaml
import pytest

from kit.errors import KitError
from kit.importer import import_source, parse_transcription

from .conftest import FIXTURES, ROOT, SEED


@pytest.fixture(scope="module")
def letter():
    return parse_transcription(SEED.read_text("utf-8"), "seed.txt")


def test_metadata(letter):
    meta = letter.meta
    assert meta["title"] == "Letter from the Korean Workers Party Central Committee to the Central Committee of the CPSU"
    assert meta["date"] == "1964-09-11"
    assert meta["signature"] == "SAPMO-BA, Berlin, DY 30, IV A2/20/251"
    assert meta["url"] == "http://digitalarchive.wilsoncenter.org/document/111813"
    assert meta["translator"] == "Bernd Schaefer"
    assert meta["original_language"] == "German"
    assert meta["credits"].startswith("This document was made possible with support from the ROK Ministry")
    assert meta["summary"].startswith("The Socialist Unity Party of Germany reports")
    assert meta["citation"].startswith("Letter from the Korean Workers Party Central Committee")


def test_debris_and_site_header_are_gone(letter):
    text = " ".join(letter.sentences)
    for debris in ("Similar documents", "Nahuel Moreno", "International History Declassified",
                   "digitalarchive.wilsoncenter.org", "Transcription:"):
        assert debris not in text
    assert letter.meta["debris_lines_dropped"] > 50


def test_each_repair_is_listed_and_applied(letter):
    text = " ".join(letter.sentences)
    kinds = [(r["kind"], r["repaired"]) for r in letter.repairs]
    assert ("hyphen lost inside compound", "and on state-to-state relations of") in kinds
    assert ("space inside hyphenated word", "positions of Marxism-Leninism? Did you") in kinds
    joins = [r for r in letter.repairs if r["kind"] == "sentence split across pages"]
    assert [r["page"] for r in joins] == [3, 5, 6]  # page 1 is the header page
    assert "through honest and comradely consultations." in text
    assert "state-tostate" not in text and "Marxism- Leninism" not in text
    assert all("sentence" in r for r in letter.repairs)


def test_original_text_is_recoverable(letter):
    raw = " ".join(SEED.read_text("utf-8").split("Transcription:")[1].split())
    assert " ".join(" ".join(letter.pages).split()) == raw


def test_structure_of_the_letter(letter):
    parts = {p["id"]: p for p in letter.parts}
    assert list(parts) == ["archival-header", "cover-note", "letter"]
    cover = [b["kind"] for b in parts["cover-note"]["blocks"]]
    assert cover[:4] == ["heading", "field", "field", "field"]
    assert "salutation" in cover and "closing" in cover
    blocks = parts["letter"]["blocks"]
    kinds = [b["kind"] for b in blocks]
    assert kinds[:3] == ["heading", "salutation", "opening"]
    assert [b["number"] for b in blocks if b["kind"] == "point"] == [1, 2, 3, 4]
    assert kinds[-3:] == ["closing", "signature", "dateline"]
    n = {b["kind"]: b["sentences"] for b in blocks}
    assert letter.sentences[n["salutation"][0] - 1] == "Dear comrades!"
    assert letter.sentences[n["dateline"][0] - 1] == "Pyongyang, 28 August 1964"
    assert letter.sentences[n["signature"][0] - 1] == "Central Committee of the Korean Workers Party"


def test_sentence_count_is_stable(letter):
    assert len(letter.sentences) == 134
    assert letter.sentences[91] == "There is no such thing as a leading party or a party to be led."
    assert letter.sentences[52].startswith("1. To conduct in advance")


def test_second_document_without_code_changes():
    parsed = parse_transcription((FIXTURES / "importer" / "memo_1961.txt").read_text(), "memo.txt")
    assert parsed.meta["title"] == "Memorandum of a Conversation about a Trade Delegation"
    assert parsed.meta["date"] == "1961-03-03"
    assert parsed.meta["signature"] == "Test Archive Fond 1, Opis 2, Delo 3"
    assert parsed.meta["original_language"] == "Russian"
    assert parsed.meta["translator"] == "Jane Example"
    assert [p["id"] for p in parsed.parts] == ["document"]
    assert len(parsed.sentences) == 12
    assert "Mr. Park, began" in parsed.sentences[2]  # the abbreviation does not end a sentence
    repaired = {r["kind"]: r for r in parsed.repairs}
    assert "explanation. I explained" in repaired["word split across pages"]["repaired"]
    assert repaired["hyphen lost inside compound"]["word"] == "people-to-people"
    assert "digitalarchive" not in " ".join(parsed.sentences)


@pytest.mark.parametrize("name, message", [
    ("not_wilson.txt", "no 'Transcription:' line"),
    ("no_citation.txt", "no 'Citation:' field"),
])
def test_rejects_other_formats(name, message, cli, tmp_path):
    code, out, err = cli("import-source", FIXTURES / "importer" / name, "--id", "x", "--content", tmp_path)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "sources").exists()


def test_import_source_cli_writes_reviewable_yaml(cli, tmp_path):
    code, out, err = cli("import-source", SEED, "--id", "kwp-letter-1964", "--content", tmp_path / "c")
    assert code == 0, err
    data = yaml.safe_load((tmp_path / "c" / "sources" / "kwp-letter-1964.yaml").read_text())
    committed = yaml.safe_load((ROOT / "content" / "sources" / "kwp-letter-1964.yaml").read_text())
    assert data == committed
    assert len(data["sentences"]) == 134 and data["repairs"]


@pytest.mark.parametrize("bad", ["../evil", "Bad Id", "a/b"])
def test_import_refuses_unsafe_ids(bad, cli, tmp_path):
    code, out, err = cli("import-source", SEED, "--id", bad, "--content", tmp_path)
    assert code == 2 and "is not valid" in err
    with pytest.raises(KitError):
        import_source(SEED, bad, tmp_path)


REPORT = FIXTURES / "importer" / "report_1965.txt"


@pytest.fixture(scope="module")
def report():
    return parse_transcription(REPORT.read_text("utf-8"), "report.txt")


def test_archival_header_is_split_from_the_text(report):
    header = report.parts[0]
    assert header["id"] == "archival-header"
    assert [(b["kind"], b["text"]) for b in header["blocks"]] == [
        ("archive-department", "Ministry of Foreign Affairs Far Eastern Department"),
        ("archival-signature", "Archival Signature: Test Archive, MfAA, A 0000/00"),
        ("place-and-date", "Berlin, 14 May 1965"),
        ("title", "Report on a Visit to an Agricultural Cooperative"),
    ]
    assert all("sentences" not in b for b in header["blocks"])  # not numbered text
    assert report.sentences[0] == "Today the cooperative shows strong influences of the methods introduced in recent years."
    assert [p["id"] for p in report.parts] == ["archival-header", "document"]
    assert report.parts[1]["blocks"][0]["sentences"] == [1, len(report.sentences)]


def test_issuing_office_without_signature_is_header_too():
    text = REPORT.read_text("utf-8").replace(
        "Ministry of Foreign Affairs Far Eastern Department Archival Signature: Test Archive, MfAA, A 0000/00 ",
        "Embassy of the GDR in the DPRK ")
    parsed = parse_transcription(text, "report.txt")
    blocks = [(b["kind"], b["text"]) for b in parsed.parts[0]["blocks"]]
    assert blocks[:2] == [("issuing-office", "Embassy of the GDR in the DPRK"), ("place-and-date", "Berlin, 14 May 1965")]
    assert parsed.sentences[0].startswith("Today the cooperative")


def test_a_header_that_repeats_nothing_stays_text():
    text = REPORT.read_text("utf-8").replace("Archival Signature: Test Archive, MfAA, A 0000/00 Berlin, 14 May 1965 "
                                             "Report on a Visit to an Agricultural Cooperative ", "")
    parsed = parse_transcription(text, "report.txt")
    assert "archival-header" not in [p["id"] for p in parsed.parts]
    assert parsed.sentences[0].startswith("Ministry of Foreign Affairs Far Eastern Department Today")


def test_the_shipped_letter_splits_its_archival_header_and_keeps_its_memo_form(letter):
    header = letter.parts[0]
    assert header["id"] == "archival-header"
    assert [(b["kind"], b["text"]) for b in header["blocks"]] == [
        ("archive-department", "SED Central Committee Department of International Relations"),
        ("archival-signature", "Archival Signature: SAPMO-BA, Berlin, DY 30, IV A2/20/251"),
    ]
    assert all("sentences" not in b for b in header["blocks"])
    # The memo form that follows (type line, To:, From:, Date:) is the SED note's own text: numbered.
    assert letter.sentences[:5] == ["SED Internal Message", "To: Comrade Ulbricht",
                                    "From: Department of International Relations, Dr. Ku/Schr",
                                    "Date: 11 September 1964", "Dear Comrade Ulbricht!"]
    assert letter.parts[1]["blocks"][0] == {"kind": "heading", "sentences": [1, 1]}


def test_a_memo_form_after_the_signature_stays_text_on_any_document():
    text = REPORT.read_text("utf-8").replace(
        "Berlin, 14 May 1965 Report on a Visit to an Agricultural Cooperative ",
        "Internal Note To: Comrade Lee From: Far Eastern Department Date: 14 May 1965 ")
    parsed = parse_transcription(text, "report.txt")
    assert [b["kind"] for b in parsed.parts[0]["blocks"]] == ["archive-department", "archival-signature"]
    assert parsed.sentences[:4] == ["Internal Note", "To: Comrade Lee", "From: Far Eastern Department",
                                    "Date: 14 May 1965"]


def test_the_shipped_source_file_has_the_header_unnumbered():
    data = yaml.safe_load((ROOT / "content" / "sources" / "kwp-letter-1964.yaml").read_text())
    assert data["sentences"][0] == {"n": 1, "text": "SED Internal Message"}
    texts = [b["text"] for b in data["structure"][0]["blocks"]]
    assert texts == ["SED Central Committee Department of International Relations",
                     f"Archival Signature: {data['signature']}"]
    assert not any(s["text"] in texts for s in data["sentences"])


def test_imported_report_validates_as_a_source(cli, tmp_path):
    code, out, err = cli("import-source", REPORT, "--id", "coop-report-1965", "--content", tmp_path / "c")
    assert code == 0, err
    from kit.models import Source
    data = yaml.safe_load((tmp_path / "c" / "sources" / "coop-report-1965.yaml").read_text())
    source = Source.model_validate(data)
    assert source.structure[0].blocks[3].text == source.title and source.structure[0].blocks[3].sentences is None
    assert source.sentences[0].text.startswith("Today the cooperative")
