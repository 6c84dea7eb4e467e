"""The feedback app's forms: they shape input; the services decide every rule (their errors land on the fields)."""

import datetime

from django import forms

from teams.web import DateInput

from .models import Feedback

CONFIDENCE_CHOICES = [(n, str(n)) for n in range(11)]


class FeedbackForm(forms.Form):
    recipient: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="To", empty_label="Choose someone")
    kind = forms.ChoiceField(choices=Feedback.Kind.choices, widget=forms.RadioSelect, initial=Feedback.Kind.PRAISE)
    goal: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, label="About a goal (optional)", empty_label="No goal"
    )
    body = forms.CharField(label="Feedback", max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    visibility = forms.ChoiceField(
        choices=[
            ("", "Default (praise: the team's kudos feed; otherwise just the two of you)"),
            *Feedback.Visibility.choices,
        ],
        required=False,
        label="Who can read it",
    )

    def __init__(self, *args, recipients, goals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients
        self.fields["goal"].queryset = goals


class FeedbackEditForm(forms.Form):
    kind = forms.ChoiceField(choices=Feedback.Kind.choices, widget=forms.RadioSelect)
    body = forms.CharField(label="Feedback", max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class CheckInForm(forms.Form):
    confidence = forms.TypedChoiceField(
        choices=CONFIDENCE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        label="How confident are you of reaching this goal?",
        error_messages={"required": "Tap how confident you are, from 0 (not at all) to 10 (certain)."},
    )
    blockers = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Anything blocking you?"
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Note")


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ActionItemForm(forms.Form):
    title = forms.CharField(label="What", max_length=300, help_text="e.g. “Shadow Ben on two demos”")
    link = forms.URLField(label="Link (optional)", required=False, max_length=500, assume_scheme="https")
    owner: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Who does it", empty_label=None)
    due_date = forms.DateField(label="Due", widget=DateInput)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["due_date"].initial = datetime.date.today() + datetime.timedelta(days=7)


class AdjustmentRequestForm(forms.Form):
    proposed_target = forms.DecimalField(label="New target", required=False, max_digits=18)
    proposed_due_date = forms.DateField(label="New due date", required=False, widget=DateInput)
    reason = forms.CharField(label="Why", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, goal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposed_target"].help_text = f"Today: {goal.target_value.normalize():f}. Leave empty to keep it."
        self.fields["proposed_due_date"].help_text = f"Today: {goal.due_date:%d %b %Y}. Leave empty to keep it."


class DecisionForm(forms.Form):
    response = forms.CharField(
        label="Your answer to the requester", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
