import uuid

from django import forms
from django.conf import settings

from conversations.models import ChatType, Conversation, Feedback


class QuestionForm(forms.Form):
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask a question about your documents…"}),
        strip=True,
        error_messages={"required": "Please type a question."},
    )
    chat_type = forms.ChoiceField(choices=ChatType.choices, initial=ChatType.ANSWER, label="Answer style")
    # A fresh id in every form shown: the same id sent twice is the same question (see question_submit).
    submission_id = forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_question(self) -> str:
        # NUL characters never get here: CharField refuses them ("Null characters are not allowed.").
        question = self.cleaned_data["question"]
        if not question.strip():
            raise forms.ValidationError("Please type a question.")
        if len(question) > settings.MAX_QUESTION_CHARS:
            raise forms.ValidationError(
                f"Questions can be at most {settings.MAX_QUESTION_CHARS} characters long "
                f"(this one has {len(question)})."
            )
        return question


class ConversationForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = ["title", "chat_type"]
        labels = {"chat_type": "Answer style"}


class FeedbackForm(forms.Form):
    feedback = forms.TypedChoiceField(choices=Feedback.choices, coerce=int)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ConversationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search your conversations")
