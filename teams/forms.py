"""Browser forms for teams, members and holidays. They only parse and check input; services decide."""

from decimal import Decimal

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.utils import timezone

from .models import Membership, Team, User
from .selectors import active_memberships
from .web import DateInput

WEEKDAYS = [("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"), ("7", "Sun")]


def capacity_field():
    return forms.DecimalField(
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


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Person",
        empty_label="Choose a person…",
        help_text="Everyone with a Pacer login who is not currently in this team.",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REP)
    capacity = capacity_field()
    active_from = forms.DateField(label="Member since", widget=DateInput, initial=timezone.localdate)

    def __init__(self, *args, team: Team, **kwargs):
        kwargs.setdefault("auto_id", "add_member_%s")  # unique ids: the team page shows several forms
        super().__init__(*args, **kwargs)
        current = active_memberships().filter(team=team).values("user_id")
        users = User.objects.filter(is_active=True).exclude(id__in=current)
        self.fields["user"].queryset = users
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username
        )


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
    capacity = capacity_field()

    def __init__(self, *args, membership: Membership, **kwargs):
        kwargs.setdefault("initial", {"role": membership.role, "capacity": membership.capacity})
        kwargs.setdefault("auto_id", f"member{membership.id}_%s")  # several rows may be open at once
        super().__init__(*args, **kwargs)


class MemberRemoveForm(forms.Form):
    active_to = forms.DateField(
        label="Last day in the team",
        widget=DateInput,
        initial=timezone.localdate,
        help_text="Their history stays; they count towards the team until this day.",
    )


class HolidayForm(forms.Form):
    date = forms.DateField(widget=DateInput)
    name = forms.CharField(max_length=120, required=False, help_text="Optional, e.g. “Christmas Day”.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "holiday_%s")
        super().__init__(*args, **kwargs)
