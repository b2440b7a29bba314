import uuid

from django import forms
from django.conf import settings

from conversations.models import ChatType, Conversation, Feedback
from documents.models import Collection


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


def _collections_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Collection.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Search in",
        help_text="None checked: every collection you can read, now and as more are shared with you.",
    )


class StartForm(QuestionForm):
    """The first question of a conversation, with the collections it will search."""

    collections = _collections_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what the user may read can be chosen: anything else posted is refused as invalid.
        self.fields["collections"].queryset = Collection.objects.readable_by(user)


class ConversationForm(forms.ModelForm):
    collections = _collections_field()

    class Meta:
        model = Conversation
        fields = ["title", "chat_type", "collections"]
        labels = {"chat_type": "Answer style"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collections"].queryset = Collection.objects.readable_by(user)


class FeedbackForm(forms.Form):
    feedback = forms.TypedChoiceField(choices=Feedback.choices, coerce=int)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ConversationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search your conversations")
