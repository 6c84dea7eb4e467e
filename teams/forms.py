"""Browser forms for teams, members and holidays. They only parse and check input; services decide."""

import zoneinfo
from decimal import Decimal

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.utils import timezone

from .models import AuditEvent, Membership, Team, User
from .selectors import PERSON_STATUSES, users_addable_by
from .validators import PacerDateField, PacerDecimalField
from .web import DateInput

WEEKDAYS = [("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"), ("7", "Sun")]


def capacity_field():
    return PacerDecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("1.00"),
        max_digits=3,
        decimal_places=2,
        initial=Decimal("1.00"),
        help_text="1.00 = full time; 0.50 = half time. A team target is split across reps by capacity.",
    )


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Part of", empty_label="— none (a top-level team) —"
    )
    working_weekdays = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        initial=["1", "2", "3", "4", "5"],
        label="Working weekdays",
        help_text="Pace and micro goals count only these days (minus holidays).",
    )

    def __init__(self, *args, team: Team | None = None, **kwargs):
        if team is not None:
            kwargs.setdefault(
                "initial",
                {"name": team.name, "parent": team.parent_id, "working_weekdays": list(team.working_weekdays)},
            )
        super().__init__(*args, **kwargs)
        parents = Team.objects.order_by("name")
        self.fields["parent"].queryset = parents.exclude(id=team.id) if team else parents
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("name", "parent", InlineCheckboxes("working_weekdays"))

    def clean_working_weekdays(self):
        return "".join(sorted(self.cleaned_data["working_weekdays"]))


def person_label(user: User) -> str:
    return f"{user.get_full_name()} ({user.username})" if user.get_full_name() else user.username


def _roles_for(user: User):
    """Admins grant either role; a manager adds and keeps reps only (the services refuse the rest anyway)."""
    return Membership.Role.choices if user.is_staff else [(Membership.Role.REP, Membership.Role.REP.label)]


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person", empty_label="Choose a person…")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REP)
    capacity = capacity_field()
    active_from = PacerDateField(label="Member since", widget=DateInput, initial=timezone.localdate)
    transfer = forms.BooleanField(
        required=False,
        label="Transfer from another team",
        help_text="If they are a rep of another team, their last day there becomes the day before.",
    )

    def __init__(self, *args, team: Team, added_by: User, **kwargs):
        kwargs.setdefault("auto_id", "add_member_%s")  # unique ids: the team page shows several forms
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users_addable_by(user=added_by, team=team)
        self.fields["user"].label_from_instance = person_label
        self.fields["role"].choices = _roles_for(added_by)
        if added_by.is_staff:
            self.fields["user"].help_text = "Everyone with a Pacer login who is not currently in this team."
        else:
            self.fields[
                "user"
            ].help_text = (
                "People who are not yet in any team. An admin moves people between teams and appoints managers."
            )
            del self.fields["transfer"]


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
    capacity = capacity_field()

    def __init__(self, *args, membership: Membership, changed_by: User, **kwargs):
        kwargs.setdefault("initial", {"role": membership.role, "capacity": membership.capacity})
        kwargs.setdefault("auto_id", f"member{membership.id}_%s")  # several rows may be open at once
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _roles_for(changed_by)


class MemberRemoveForm(forms.Form):
    active_to = PacerDateField(
        label="Last day in the team",
        widget=DateInput,
        initial=timezone.localdate,
        help_text="Their history stays; they count towards the team until this day.",
    )


class HolidayForm(forms.Form):
    date = PacerDateField(widget=DateInput)
    name = forms.CharField(max_length=120, required=False, help_text="Optional, e.g. “Christmas Day”.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "holiday_%s")
        super().__init__(*args, **kwargs)


def _timezone_choices():
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class InviteForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(help_text="The invitation goes here; it is also their username.")
    timezone = forms.ChoiceField(initial="UTC", help_text="Their local day decides which date an entry counts on.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="— no team yet —",
                                  help_text="They join it from today.")  # fmt: skip
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REP)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "invite_%s")
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = _timezone_choices()
        self.fields["team"].queryset = Team.objects.order_by("name")


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", "Everyone"), *PERSON_STATUSES.items()])


class AuditFilterForm(forms.Form):
    person = forms.ModelChoiceField(queryset=User.objects.order_by("first_name", "last_name", "username"),
                                    required=False, empty_label="Anyone")  # fmt: skip
    kind = forms.ChoiceField(required=False, choices=[("", "Every kind"), *AuditEvent.Kind.choices])
    since = PacerDateField(required=False, widget=DateInput, label="From")
    until = PacerDateField(required=False, widget=DateInput, label="To")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].label_from_instance = person_label
        for name, field in self.fields.items():
            css = "form-select" if name in ("person", "kind") else "form-control"
            field.widget.attrs["class"] = css + (" is-invalid" if self.is_bound and name in self.errors else "")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data
