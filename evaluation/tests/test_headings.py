from evaluation.headings import heading_questions, headings, is_heading


def test_a_heading_is_a_short_capitalised_line_without_sentence_punctuation_or_code():
    assert is_heading("Sowing the Broad Beans")
    assert not is_heading("Sow beans")  # too short
    assert not is_heading("Sow the beans in November.")  # a sentence
    assert not is_heading("sowing the broad beans")  # not capitalised
    assert not is_heading("Calling bean_count(rows) twice")  # code
    assert headings("Title Line Of The Page\n\nFirst Real Heading Here\n\nText.") == {"First Real Heading Here"}


def test_one_question_per_long_page_from_headings_no_other_page_has(tmp_path):
    shared = "Shared Heading In Both"
    (tmp_path / "a.txt").write_text(f"Page A\n\n{shared}\n\nOnly In Page A\n\n" + "words " * 100)
    (tmp_path / "b.txt").write_text(f"Page B\n\n{shared}\n\n" + "words " * 100)  # its only heading is shared
    (tmp_path / "c.txt").write_text("Page C\n\nOnly In Page C\n\nshort")  # too short
    assert heading_questions(tmp_path, min_chars=300) == [
        {"id": "heading-001", "question": "Only In Page A", "expected_source": "a.txt"}
    ]
