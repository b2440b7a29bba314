from django import forms
from django.conf import settings

from conversations.models import ChatType


class QuestionForm(forms.Form):
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask a question about your documents…"}),
        strip=True,
        error_messages={"required": "Please type a question."},
    )
    chat_type = forms.ChoiceField(choices=ChatType.choices, initial=ChatType.ANSWER, label="Answer style")

    def clean_question(self) -> str:
        question = self.cleaned_data["question"].replace("\x00", "")
        if not question.strip():
            raise forms.ValidationError("Please type a question.")
        if len(question) > settings.MAX_QUESTION_CHARS:
            raise forms.ValidationError(
                f"Questions can be at most {settings.MAX_QUESTION_CHARS} characters long "
                f"(this one has {len(question)})."
            )
        return question
