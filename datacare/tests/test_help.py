import pytest
from django.core.management import call_command

DATA_CARE_COMMANDS = ["export_user_data", "delete_user_data", "purge_conversations", "export_dataset"]


@pytest.mark.parametrize("name", DATA_CARE_COMMANDS)
def test_every_data_care_command_explains_itself_with_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command(name, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--dry-run" in out
