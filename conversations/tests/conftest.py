import pytest

from conversations.tests.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub(settings, monkeypatch):
    """Point CHAT_MODEL at a local OpenAI-compatible server; the test can change its reply."""
    stub = OpenAIStub()
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
    settings.CHAT_MODEL = "openai:gpt-test"
    settings.CHAT_MODEL_BASE_URL = stub.base_url
    settings.CHAT_MODEL_MAX_RETRIES = 0
    yield stub
    stub.close()


@pytest.fixture
def fake_chat_model(monkeypatch):
    """Swap in LangChain's own fake chat model, replying with the given texts in turn."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from conversations import llm

    def install(*replies: str) -> GenericFakeChatModel:
        model = GenericFakeChatModel(messages=iter([AIMessage(reply) for reply in replies]))
        monkeypatch.setattr(llm, "get_chat_model", lambda choice: model)
        return model

    return install
