from django import forms

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # about 300,000 rows; bigger files go through `manage.py import_progress`


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What will use it, e.g. “HubSpot sync”.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=[("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")],
        coerce=int,
        empty_value=None,
        required=False,
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Columns: user, kpi, date, value, note, external_id.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 20 MB: split it, or use `manage.py import_progress`.")
        try:
            return upload.name, upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text: save it as “CSV UTF-8” and upload again."
            ) from None


class ImportConfirmForm(forms.Form):
    pending = forms.IntegerField(widget=forms.HiddenInput)
