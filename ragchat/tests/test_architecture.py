"""Each room imports only what it may (README, "How the code is laid out"), and no module grows past 400 lines.

Imports are read from the source, those inside functions included, so a lazy import cannot hide.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
STAFF_APPS = {"moderation", "insight", "datacare", "evaluation"}
PROJECT_APPS = {"ragchat", "accounts", "documents", "conversations", "api", "interop"} | STAFF_APPS

# What each app may import of the project's other apps (its own modules and the root conftest are always fine).
MAY_IMPORT = {
    "documents": {"ragchat"},
    "conversations": {"ragchat", "accounts", "documents"},
    "accounts": {"ragchat"},
    # The REST API and personal tokens: the same services and reads as the pages, for programs.
    "api": {"ragchat", "accounts", "documents", "conversations"},
    # The OpenAI-compatible endpoint and the MCP server: the API's tokens (their model in tests), nothing else of it.
    "interop": {"ragchat", "documents", "conversations", "api.tokens", "api.models"},
    "evaluation": {"ragchat", "documents", "conversations"},
    # Staff apps may write the one evaluation-set format, evaluation.evalset; nothing else of another staff app.
    "moderation": {"ragchat", "documents", "conversations", "evaluation.evalset"},
    "datacare": {"ragchat", "documents", "conversations", "evaluation.evalset"},
    "insight": {"ragchat", "documents", "conversations"},
}
MAX_LINES = 400


def modules(app: str) -> list[Path]:
    return sorted(path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def allowed(app: str, name: str) -> bool:
    top = name.split(".")[0]
    if top not in PROJECT_APPS or top == app:
        return True
    return any(name == rule or name.startswith(rule + ".") for rule in MAY_IMPORT[app])


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_apps_import_only_what_they_may(app):
    forbidden = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(app)
        for name in sorted(imported_names(path))
        if not allowed(app, name)
    ]
    assert forbidden == []


def test_the_rules_see_a_forbidden_import():
    """If imported_names found nothing, the test above would pass without checking."""
    names = imported_names(ROOT / "moderation" / "admin.py")
    assert "conversations.models.Message" in names and allowed("moderation", "conversations.models.Message")
    assert not allowed("documents", "conversations.models.Message")
    assert not allowed("conversations", "moderation.exports")
    assert not allowed("datacare", "evaluation.scoring.evaluate")
    assert allowed("datacare", "evaluation.evalset.evaluation_line")
    assert allowed("interop", "api.tokens.bearer_user") and not allowed("interop", "api.rest")


@pytest.mark.parametrize("app", sorted(PROJECT_APPS))
def test_modules_stay_small(app):
    long = [f"{p.relative_to(ROOT)}: {n}" for p in modules(app) if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []


# LangChain's chat-model side; the embeddings class in documents/ is LangChain's Embeddings on purpose.
CHAT_MODEL_CODE = ("langchain.chat_models", "langchain_core.language_models", "langchain_core.messages")


def test_only_the_llm_module_talks_to_langchain_chat_models():
    reaching = [
        f"{path.relative_to(ROOT)}: {name}"
        for app in sorted(PROJECT_APPS)
        for path in modules(app)
        if "tests" not in path.parts and path != ROOT / "conversations" / "llm.py"
        for name in sorted(imported_names(path))
        if name.startswith(CHAT_MODEL_CODE) or name.startswith("conversations.llm") and app != "conversations"
    ]
    assert reaching == []
    assert any(name.startswith(CHAT_MODEL_CODE) for name in imported_names(ROOT / "conversations" / "llm.py"))


def test_retrieval_is_offered_by_the_knowledge_base():
    defined = {
        path.relative_to(ROOT).as_posix()
        for app in sorted(PROJECT_APPS)
        for path in modules(app)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == "retrieve"
    }
    assert defined == {"documents/retrieval.py"}
