import csv
import io
import json

from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from conversations.models import Message
from evaluation.evalset import dataset_id
from moderation.exports import EXPORT_FIELDS


def run_action(client, action: str, messages: list[Message]):
    return client.post(
        reverse("admin:conversations_message_changelist"),
        {"action": action, "_selected_action": [m.pk for m in messages]},
    )


def test_export_selected_as_json_lines(staff_client, exchanges):
    roses, kettle = exchanges
    response = run_action(staff_client, "export_jsonl", [roses, kettle])
    assert response["Content-Disposition"].endswith('-messages.jsonl"')
    rows = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [row["question"] for row in rows] == ["When to prune roses?", "How do I descale the kettle?"]
    assert list(rows[0]) == EXPORT_FIELDS
    assert (rows[0]["id"], rows[0]["owner"], rows[0]["feedback"]) == (roses.pk, "alice", -1)
    assert rows[0]["sources"] == [passage.summary() for passage in roses.passages()]
    assert rows[0]["sources"][0]["path"] == "garden/roses.md"
    assert LogEntry.objects.filter(change_message="Exported").count() == 2


def test_export_selected_as_csv(staff_client, exchanges):
    roses, _ = exchanges
    response = run_action(staff_client, "export_csv", [roses])
    assert response["Content-Disposition"].endswith('-messages.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 and list(rows[0]) == EXPORT_FIELDS
    assert rows[0]["question"] == "When to prune roses?"
    assert rows[0]["sources"] == "; ".join(passage.path for passage in roses.passages())


def test_the_evaluation_export_writes_evaluation_lines_of_messages_with_an_expected_source(staff_client, exchanges):
    roses, kettle = exchanges
    Message.objects.filter(pk=roses.pk).update(expected_source="garden/roses.md")
    response = run_action(staff_client, "export_evaluation", [roses, kettle])
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert lines == [
        {"id": dataset_id(roses.pk), "question": "When to prune roses?", "expected_source": "garden/roses.md"}
    ]
    assert response["X-Skipped-Without-Expected-Source"] == "1"
    logged = LogEntry.objects.filter(change_message="Exported as an evaluation question")
    assert list(logged.values_list("object_id", flat=True)) == [str(roses.pk)]


def test_the_evaluation_export_refuses_when_no_expected_source_is_set(staff_client, exchanges):
    response = run_action(staff_client, "export_evaluation", list(exchanges))
    assert response.status_code == 302  # back to the list, with the error message
    follow = staff_client.get(response.url).content.decode()
    assert "Fill in the expected source of the messages first." in follow
    assert not LogEntry.objects.exists()


def test_the_evaluation_export_is_valid_input_for_evaluate(staff_client, exchanges, docs_dir, tmp_path, capsys):
    roses, kettle = exchanges
    Message.objects.filter(pk=roses.pk).update(expected_source="garden/roses.md")
    Message.objects.filter(pk=kettle.pk).update(expected_source="kettle.txt")
    questions = tmp_path / "questions.jsonl"
    questions.write_bytes(run_action(staff_client, "export_evaluation", [roses, kettle]).content)

    call_command("evaluate", str(questions), "--corpus", str(docs_dir), "--json", verbosity=0)
    output = json.loads(capsys.readouterr().out)

    assert (output["question_count"], output["k"], output["collection"]) == (2, 10, "eval-docs")
    assert output["recall@1"] == output["recall@5"] == output["recall@10"] == output["mrr@10"] == 1.0
    assert [(q["id"], q["expected_source"], q["ranked_sources"][0]) for q in output["questions"]] == [
        (dataset_id(roses.pk), "garden/roses.md", "garden/roses.md"),
        (dataset_id(kettle.pk), "kettle.txt", "kettle.txt"),
    ]
