from documents.chunking import HEADING_SEPARATOR, chunk_document
from documents.embeddings import token_count
from documents.extract import ExtractedDocument, Section


def test_long_sections_are_split_into_chunks_the_model_reads_whole(settings):
    paragraphs = [f"Paragraph {n} explains how the kettle is descaled with vinegar and rinsed." for n in range(80)]
    document = ExtractedDocument(title="Kettle", sections=[Section(["Kettle", "Descaling"], "\n\n".join(paragraphs))])

    chunks = chunk_document(document)

    assert len(chunks) > 5
    assert [c.position for c in chunks] == list(range(len(chunks)))
    # all-MiniLM-L6-v2 reads 256 word pieces including [CLS] and [SEP]: every chunk must fit whole.
    assert max(token_count(c.embedding_text) for c in chunks) <= 254
    # A long heading leaves less room for text, but never pushes a chunk past the limit.
    assert all(c.heading == f"Kettle{HEADING_SEPARATOR}Descaling" for c in chunks)
    assert all(c.embedding_text.startswith("Kettle › Descaling\n") for c in chunks)


def test_every_word_of_the_text_is_kept():
    text = " ".join(f"word{n}" for n in range(1500))
    chunks = chunk_document(ExtractedDocument(title="T", sections=[Section(["T"], text)]))
    kept = set(" ".join(c.text for c in chunks).split())
    assert kept == set(text.split())


def test_word_pieces_are_counted_as_the_torch_models_tokenizer_counts_them():
    # token_count reads tokenizer.json itself, so the ONNX backends need no torch to chunk.
    from documents.embeddings import get_model

    texts = ["Crème brûlée, naïve café, 東京 and 🙂", "QuerySet.filter(**kwargs) -> QuerySet", "word " * 600, ""]
    tokenizer = get_model().tokenizer
    assert [token_count(text) for text in texts] == [len(tokenizer.tokenize(text)) for text in texts]


def test_long_headings_are_cut_at_the_same_word_piece_as_before():
    from documents.chunking import MAX_HEADING_TOKENS, _fit_heading
    from documents.embeddings import get_model

    heading = " › ".join(f"Chapitre {n}: la crème de la crème" for n in range(40))
    offsets = get_model().tokenizer(heading, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert _fit_heading(heading) == heading[: offsets[MAX_HEADING_TOKENS - 1][1]].rstrip()


def test_word_pieces_are_counted_whatever_the_model_did_last():
    # The model's own tokenizer truncates to what the model reads (256 after any embedding, 128 as
    # loaded) and pads short texts: counting through it made every long text look short.
    from documents.embeddings import get_model

    get_model().encode(["a question embedded first"])
    assert token_count("word " * 600) == 600
    get_model().tokenizer.backend_tokenizer.enable_padding(length=128)
    try:
        assert token_count("two words") == 2
    finally:
        get_model().tokenizer.backend_tokenizer.no_padding()
