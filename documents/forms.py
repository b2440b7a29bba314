from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator

from documents import uploads
from documents.extract import SUPPORTED_SUFFIXES
from documents.models import Collection, Role

collection_name_validator = RegexValidator(r"^[A-Za-z0-9_-]+\Z", "Use only letters, digits, hyphens and underscores.")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files (Django documents this pattern; it has no such field)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(SUPPORTED_SUFFIXES)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        clean_one = super().clean
        if isinstance(data, list | tuple) and data:
            return [clean_one(item, initial) for item in data]
        # No file at all: the single-file clean raises "required".
        return [clean_one(data, initial)]


class PageUploadForm(forms.Form):
    """Files chosen or dropped on a knowledge page, .zip archives of folders among them.

    documents/uploads.py decides what is accepted: ``checked`` holds the files to queue and those
    refused with their reasons; a limit of the upload as a whole makes the form invalid, and so
    does an upload of which nothing is left to import.
    """

    files = MultipleFileField(
        allow_empty_file=True,  # queued and reported empty by the import, like the command does
        label="Files or a .zip of a folder",
        widget=MultipleFileInput(attrs={"accept": ",".join(uploads.accepted_suffixes())}),
    )

    def __init__(self, *args, user, oversized: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.checked: uploads.CheckedUpload | None = None
        self.fields["files"].help_text = uploads.limits_text(user)
        # The files past MAX_UPLOAD_TOTAL_BYTES were never read (uploads.SizeGuard): say so, not "required".
        self.oversized = oversized
        self.fields["files"].required = not oversized

    def clean_files(self) -> list[tuple[str, File]]:
        accepted = self._check()
        if not accepted:
            self.checked.close()
            refused = "; ".join(f"{name}: {reason}" for name, reason in self.checked.refused)
            raise forms.ValidationError(f"None of these files can be imported ({refused}).")
        return accepted

    def _check(self) -> list[tuple[str, File]]:
        if self.oversized:
            raise forms.ValidationError(uploads.too_much_sent())
        try:
            self.checked = uploads.upload_check(files=self.cleaned_data["files"], user=self.user)
        except uploads.UploadRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return self.checked.accepted

    @property
    def rejected(self) -> list[tuple[str, str]]:
        """The files refused one by one, as (name, reason)."""
        return self.checked.refused if self.checked else []


class UploadForm(PageUploadForm):
    """The admin's upload: the same checks as the pages', into a collection named here (made if new)."""

    collection = forms.CharField(
        max_length=100,
        initial="default",
        validators=[collection_name_validator],
        help_text="Letters, digits, - and _. A file replaces the document of the same path in this collection.",
    )
    field_order = ["collection", "files"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)

    def clean_files(self) -> list[tuple[str, File]]:
        # The admin names every refused file in its messages and shows the form again if none is left.
        return self._check()


class DocumentSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search by title")


class DocumentPageForm(forms.Form):
    """The passage to highlight, as ?chunk=<id> (the passage pages link with it)."""

    chunk = forms.IntegerField(required=False, min_value=1)


class CollectionRenameForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Please give the collection a title.")
        return title


class MemberForm(forms.Form):
    """A member of a collection: a user by username, or a group by name (one of the two)."""

    username = forms.CharField(required=False, max_length=150, label="User (username)")
    group = forms.CharField(required=False, max_length=150, label="or group (name)")

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"There is no user called “{username}”.")
        return user

    def clean_group(self) -> Group | None:
        name = self.cleaned_data["group"].strip()
        if not name:
            return None
        group = Group.objects.filter(name=name).first()
        if group is None:
            raise forms.ValidationError(f"There is no group called “{name}”.")
        return group

    def member(self) -> dict:
        """The member as the sharing services take it: ``user=`` or ``group=`` (the other None)."""
        return {"user": self.cleaned_data["username"], "group": self.cleaned_data["group"]}

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and (cleaned.get("username") is None) == (cleaned.get("group") is None):
            raise forms.ValidationError("Name a user or a group (one of the two).")
        return cleaned


class ShareForm(MemberForm):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.READER)
