"""Excerpt matching: exact, whitespace, typography, omissions, insertions, misquotes, ambiguity."""

import pytest
from hypothesis import given, settings, strategies as st

from kit.importer import parse_transcription
from kit.quotes import QuoteError, SourceText

from .conftest import SEED

LETTER = SourceText(parse_transcription(SEED.read_text("utf-8"), "seed").sentences)


def find(quote):
    return LETTER.find_quote(quote)


def test_exact():
    m = find("There is no such thing as a leading party or a party to be led.")
    assert (m.first_sentence, m.last_sentence) == (92, 92)
    assert m.text == "There is no such thing as a leading party or a party to be led."


def test_whitespace_and_line_breaks_are_ignored():
    assert find("There  is no such\n thing as a leading\tparty").first_sentence == 92


def test_typographic_quotes_and_dashes():
    assert find("We are obligated to stay committed to Lenin\u2019s advice").first_sentence == 71
    assert find("state\u2013to\u2013state relations").first_sentence == 18


def test_elision_spans_sentences():
    m = find("All parties are equal and autonomous. [...] No party has the right to command other parties")
    assert (m.first_sentence, m.last_sentence) == (91, 93)
    assert [s.kind for s in m.segments] == ["text", "elision", "text"]


def test_translator_brackets_are_source_text_not_insertions():
    m = find("You [CPSU leadership] call for decisive standpoints")
    assert [s.kind for s in m.segments] == ["text"]


def test_editorial_insertion_may_stand_for_words():
    m = find("[The CPSU] call for decisive standpoints against the Marxist-Leninist parties.")
    assert [s.kind for s in m.segments] == ["insertion", "text"]
    assert m.first_sentence == 41


def test_misquote_names_the_difference_and_the_closest_passage():
    with pytest.raises(QuoteError) as err:
        find("There is no such thing as a ruling party or a party to be led.")
    assert "'ruling' where the source has 'leading'" in err.value.hint
    assert "s. 92" in err.value.hint


def test_ambiguous_quote():
    with pytest.raises(QuoteError) as err:
        find("the international communist movement")
    assert "times in the source" in err.value.message


def test_span_by_first_and_last_words():
    m = LETTER.find_span("All parties are equal", "place itself at the center.")
    assert (m.first_sentence, m.last_sentence) == (91, 93)
    assert m.text.endswith("place itself at the center.")


def test_span_with_missing_end():
    with pytest.raises(QuoteError):
        LETTER.find_span("All parties are equal", "words that are not there")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_unique_substring_verifies(data):
    words = LETTER.text.split(" ")
    start = data.draw(st.integers(0, len(words) - 10))
    quote = " ".join(words[start:start + data.draw(st.integers(8, 70))])
    text = LETTER.text
    if text.count(quote) != 1 or "[" in quote or "]" in quote or "..." in quote:
        return
    m = find(quote)
    assert LETTER.text[m.start:m.end] == quote


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_one_word_change_never_verifies(data):
    words = LETTER.text.split(" ")
    start = data.draw(st.integers(0, len(words) - 20))
    chunk = words[start:start + 15]
    if any(c in " ".join(chunk) for c in "[]"):
        return
    i = data.draw(st.integers(0, len(chunk) - 1))
    chunk[i] = chunk[i] + "x" if data.draw(st.booleans()) else "zebra"
    with pytest.raises(QuoteError):
        find(" ".join(chunk))


def test_issue_example_names_the_changed_word_not_a_bracket():
    with pytest.raises(QuoteError) as err:
        find("It cannot serve any useful purpose to solve the issues")
    assert "the quote has 'useful' where the source has 'constructive'" in err.value.hint
    assert 'closest passage (s. 55): "It cannot serve' in err.value.hint


def test_change_after_an_elision_and_next_to_a_translator_bracket():
    with pytest.raises(QuoteError) as err:
        find("All parties are equal and autonomous. [...] No party has the right to rule other parties")
    assert "the quote has 'rule' where the source has 'command'" in err.value.hint
    with pytest.raises(QuoteError) as err:
        find("You [CPSU leadership] call for firm standpoints against the Marxist-Leninist parties.")
    assert "the quote has 'firm' where the source has 'decisive'" in err.value.hint


def test_many_elisions_are_matched_without_backtracking():
    with pytest.raises(QuoteError) as err:
        find("the [...] " * 40 + "zzqxw")
    assert "'zzqxw' are not in the source at all" in err.value.hint


def test_a_quote_does_not_start_inside_a_word():
    with pytest.raises(QuoteError):
        find("here is no such thing as a leading party")


@pytest.mark.parametrize("quote, said, has, where", [
    ("We are obligated to stay committed to Lenin\u2019s counsel that it is a sign", "counsel", "advice", "s. 71"),
    ("through honest and friendly consultations. Unfortunately, however,", "friendly", "comradely", "s. 26"),  # page join
    ("on state\u2013to\u2013state ties of the socialist countries", "ties", "relations", "s. 18"),  # repaired hyphens
    ("Did you not deviate from the principled positions of Marxism-Leninism? Did you not throw away",
     "away", "overboard", "s. 64"),  # repaired 'Marxism- Leninism'
])
def test_misquote_across_typography_page_joins_and_repairs(quote, said, has, where):
    with pytest.raises(QuoteError) as err:
        find(quote)
    assert f"the quote has '{said}' where the source has '{has}'" in err.value.hint
    assert f"against {where} " in err.value.hint


def test_misquoted_to_words_of_a_span():
    with pytest.raises(QuoteError) as err:
        LETTER.find_span("All parties are equal", "place itself in the center.")
    assert "the quote has 'in' where the source has 'at'" in err.value.hint


@settings(max_examples=300)
@given(st.lists(st.one_of(st.sampled_from(LETTER.text.split(" ")[:400]), st.sampled_from(
    ["[...]", "...", "[x]", "[CPSU leadership]", "\u2026", "[", "]", "\u201c", "zzqxw"])), min_size=1, max_size=40))
def test_any_mix_of_words_and_brackets_verifies_or_is_explained(words):
    try:
        m = find(" ".join(words))
    except QuoteError as err:
        assert err.message and err.hint
    else:
        assert LETTER.text[m.start:m.end].split()[0].strip("[\"'") in m.text
