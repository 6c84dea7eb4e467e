"""Browser forms of the goals app. They parse and check input; services decide."""

import uuid

from django import forms

from goals.models import Goal, Kpi
from goals.selectors import goal_list_for_user, kpi_list
from goals.services.goals import LIVE, window_errors
from teams.models import Membership, Team
from teams.selectors import active_memberships, managed_team_ids, teams_managed_by
from teams.validators import PacerDateField, PacerDecimalField, parse_id
from teams.web import DateInput


class KpiForm(forms.Form):
    name = forms.CharField(max_length=80)
    unit = forms.ChoiceField(choices=Kpi.Unit.choices, initial=Kpi.Unit.COUNT)
    currency_code = forms.CharField(
        max_length=3,
        required=False,
        label="Currency code",
        help_text="Three letters when the unit is currency, e.g. EUR.",
    )
    decimal_places = forms.IntegerField(
        min_value=0, max_value=4, initial=0, label="Decimal places", help_text="0 for counts, 2 for money."
    )
    aggregation = forms.ChoiceField(
        choices=Kpi.Aggregation.choices,
        initial=Kpi.Aggregation.SUM,
        help_text="Sum for things that add up (deals, calls); latest for levels (pipeline, win rate).",
    )
    direction = forms.ChoiceField(choices=Kpi.Direction.choices, initial=Kpi.Direction.HIGHER)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    is_active = forms.BooleanField(
        required=False, initial=True, label="Active", help_text="Inactive KPIs keep their history but get no new goals."
    )

    def __init__(self, *args, kpi: Kpi | None = None, **kwargs):
        if kpi is not None:
            kwargs.setdefault("initial", {name: getattr(kpi, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)
        if kpi is None:
            del self.fields["is_active"]  # a new KPI starts active

    def clean_currency_code(self):
        return self.cleaned_data["currency_code"].strip().upper()


# --- Rep pages: log progress, correct or void an entry (goals/views/rep.py) -------------------------------------


class ProgressLogForm(forms.Form):
    """One log form per KPI on Today. `token` is a one-time id: a double submit records one entry."""

    kpi = forms.ModelChoiceField(
        queryset=Kpi.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Progress can only be logged on a KPI you have an active goal on."},
    )
    value = PacerDecimalField(max_digits=18, decimal_places=4, min_value=0, label="Value")
    date = PacerDateField(widget=DateInput, label="Date")
    note = forms.CharField(max_length=500, required=False, label="Note (optional)")
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, kpis, today, **kwargs):
        """`kpis`: the KPIs this person may log on now; `today`: their local date (later dates are refused)."""
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"date": today, "token": uuid.uuid4(), **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["kpi"].queryset = kpis
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        self.fields["value"].widget.attrs.update(inputmode="decimal", step="any")

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > self.today:
            raise forms.ValidationError(
                f"That is in the future: log for today ({self.today:%d %b}) or an earlier date."
            )
        return day


class EntryEditForm(forms.Form):
    value = PacerDecimalField(max_digits=18, decimal_places=4, min_value=0, label="Value")
    date = PacerDateField(widget=DateInput, label="Date")
    note = forms.CharField(max_length=500, required=False, label="Note (optional)")

    def __init__(self, *args, entry, today, **kwargs):
        value = entry.value.quantize(entry.kpi.quantum)
        kwargs.setdefault("initial", {"value": value, "date": entry.date, "note": entry.note})
        super().__init__(*args, **kwargs)
        self.today, self.entry_date = today, entry.date
        self.fields["date"].widget.attrs["max"] = max(today, entry.date).isoformat()
        self.fields["value"].widget.attrs.update(inputmode="decimal", step="any")

    def clean_date(self):
        """A moved date may not be in the future; the unchanged one is never checked again (the rep may have
        moved to a timezone where that day has not begun yet)."""
        day = self.cleaned_data["date"]
        if day != self.entry_date and day > self.today:
            raise forms.ValidationError(f"That is in the future: pick today ({self.today:%d %b}) or an earlier date.")
        return day


class EntryVoidForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why void this entry?",
        error_messages={"required": "Say why this entry is voided (the reason is kept with it)."},
    )


# --- Manager pages: set a target, bulk targets, edit, re-plan, cancel, dashboard filters (goals/views/manager.py,
# goals/views/goal_page.py). Owner and team choices are limited to what the manager manages, so a forged id is
# "not one of the available choices" — a form error, and nothing is saved.

GOAL_VALUE = {"max_digits": 18, "decimal_places": 4}
CADENCE_CHOICES = [
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("biweekly", "Every two weeks"),
    ("none", "No micro goals"),
]
# Fields whose change refreshes the achievability verdict (hx attributes set by SmartGoalForm).
ACHIEVABILITY_FIELDS = ("kpi", "target_value", "baseline_value", "owner", "start_date", "due_date")


class OwnerChoices:
    """The owners a user may set goals for: the teams they manage (with sub-teams) and the reps of those teams,
    as grouped choices "team:<id>" / "user:<id>". Queries: 2 (teams, rep memberships), plus 1–2 to find the managed
    teams unless `team_ids` (managed_team_ids of the user) is passed in."""

    def __init__(self, *, user, team_ids=None):
        team_ids = managed_team_ids(user=user) if team_ids is None else team_ids
        self.teams = {t.id: t for t in teams_managed_by(user=user, team_ids=team_ids)}
        reps = (
            active_memberships()
            .filter(team_id__in=team_ids, role=Membership.Role.REP)
            .select_related("user", "team")
            .order_by("user__first_name", "user__last_name", "user__username")
        )
        self.reps = {m.user_id: m for m in reps}

    def choices(self):
        teams = [(f"team:{t.id}", f"{t.name} (team)") for t in self.teams.values()]
        reps = [(f"user:{m.user_id}", f"{m.user} — {m.team.name}") for m in self.reps.values()]
        return [("", "— choose a rep or a team —"), ("Teams", teams), ("Reps", reps)]

    def resolve(self, value):
        """(owner_user, owner_team) for a choice value; None when it is not one of them."""
        kind, _, pk = (value or "").partition(":")
        pk = parse_id(pk)
        if kind == "team" and pk in self.teams:
            return None, self.teams[pk]
        if kind == "user" and pk in self.reps:
            return self.reps[pk].user, None
        return None


def owner_value(goal) -> str:
    return f"user:{goal.owner_user_id}" if goal.owner_user_id else f"team:{goal.owner_team_id}"


class ParentGoalField(forms.ModelChoiceField):
    def label_from_instance(self, goal):
        return f"{goal.title} — {goal.owner}, due {goal.due_date:%d %b %Y}"


class SmartGoalForm(forms.Form):
    """A hard goal, SMART: Specific, Measurable, Achievable (shown live beside it), Relevant, Time-bound."""

    title = forms.CharField(max_length=140, help_text="What exactly is to be achieved, e.g. “Q3 new business”.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Anything that makes it specific."
    )
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), label="KPI", empty_label="— choose a KPI —")
    target_value = PacerDecimalField(**GOAL_VALUE, label="Target")
    baseline_value = PacerDecimalField(
        **GOAL_VALUE, label="Baseline", initial=0, help_text="Where pace starts; normally 0 for things you count."
    )
    owner = forms.ChoiceField(label="Owner", help_text="One rep, or a team (its reps share the target by capacity).")
    parent = ParentGoalField(
        queryset=Goal.objects.none(), required=False, label="Parent goal", empty_label="— none —",
        help_text="The bigger goal this one contributes to.",
    )  # fmt: skip
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Why this target matters now."
    )
    start_date = PacerDateField(widget=DateInput, label="Start date")
    due_date = PacerDateField(widget=DateInput, label="Due date")

    def __init__(self, *args, user, team_ids=None, achievability_url=None, goal=None, **kwargs):
        self.owners = OwnerChoices(user=user, team_ids=team_ids)
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpi_list()
        self.fields["owner"].choices = self.owners.choices()
        parents = goal_list_for_user(user=user).filter(status__in=LIVE)
        if goal is not None:
            parents = parents.exclude(id=goal.id)
        self.fields["parent"].queryset = parents.order_by("-due_date", "title")
        for name in ("target_value", "baseline_value"):
            self.fields[name].widget.attrs.update(inputmode="decimal", step="any")
        if achievability_url:
            for name in ACHIEVABILITY_FIELDS:
                self.fields[name].widget.attrs.update(
                    {
                        "hx-post": achievability_url,
                        "hx-trigger": "input changed delay:400ms",
                        "hx-target": "#achievability",
                        "hx-sync": "closest form:queue last",
                    }
                )

    def clean_owner(self):
        owner = self.owners.resolve(self.cleaned_data["owner"])
        if owner is None:
            raise forms.ValidationError("Choose one of the reps or teams you manage.")
        return owner

    def clean(self):
        data = super().clean()
        start, due = data.get("start_date"), data.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date is before the start date.")
        elif start and due:
            for name, message in window_errors(start, due).items():
                self.add_error(name, message)
        return data

    def service_kwargs(self) -> dict:
        """The cleaned data as goal_create/goal_update keyword arguments."""
        data = dict(self.cleaned_data)
        data["owner_user"], data["owner_team"] = data.pop("owner")
        data.pop("cadence", None)
        data.pop("reason", None)
        return data


class GoalCreateForm(SmartGoalForm):
    cadence = forms.ChoiceField(
        choices=CADENCE_CHOICES, initial="weekly", required=False, widget=forms.RadioSelect, label="Micro goals every"
    )

    def clean_cadence(self):
        return self.cleaned_data.get("cadence") or "weekly"


EDIT_COPIED = ("title", "description", "rationale", "start_date", "due_date")


class GoalEditForm(SmartGoalForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason for the change",
        help_text="Needed once the goal is active when the target, baseline, dates or owner change; kept in the timeline.",
    )

    def __init__(self, *args, goal, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                **{name: getattr(goal, name) for name in EDIT_COPIED},
                "kpi": goal.kpi_id,
                "target_value": goal.target_value.quantize(goal.kpi.quantum),
                "baseline_value": goal.baseline_value.quantize(goal.kpi.quantum),
                "owner": owner_value(goal),
                "parent": goal.parent_id,
            },
        )
        super().__init__(*args, goal=goal, **kwargs)
        del self.fields["kpi"]  # a goal's KPI never changes: cancel it and set a new one
        if goal.status == Goal.Status.ACTIVE:
            self.fields["reason"].help_text = "Required when the target, baseline, dates or owner change."
        current = owner_value(goal)
        if self.owners.resolve(current) is None:  # e.g. the owner left the team: keep them selectable
            self.fields["owner"].choices = [*self.fields["owner"].choices, (current, str(goal.owner))]
            self.goal_owner = (goal.owner_user, goal.owner_team)
        else:
            self.goal_owner = None

    def clean_owner(self):
        if self.goal_owner and self.cleaned_data["owner"] == self.initial["owner"]:
            return self.goal_owner
        return super().clean_owner()


class ReasonForm(forms.Form):
    """Re-plan (reason optional) and cancel (reason required)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Reason")

    def __init__(self, *args, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        if not required:
            self.fields["reason"].label = "Reason (optional)"


class BulkTargetsForm(forms.Form):
    """One KPI and window for every rep of a team, each rep with their own target (`target_<user id>`)."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label="— choose a team —")
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), label="KPI", empty_label="— choose a KPI —")
    title = forms.CharField(max_length=140, help_text="Each rep's goal gets this title.")
    start_date = PacerDateField(widget=DateInput, label="Start date")
    due_date = PacerDateField(widget=DateInput, label="Due date")
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, teams, reps, **kwargs):
        """`teams`: the teams the user manages; `reps`: the current rep memberships of the chosen team."""
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["kpi"].queryset = kpi_list()
        self.reps = list(reps)
        for membership in self.reps:
            self.fields[self.target_field(membership.user_id)] = PacerDecimalField(
                **GOAL_VALUE,
                required=False,
                label=f"Target for {membership.user}",
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )

    @staticmethod
    def target_field(user_id) -> str:
        return f"target_{user_id}"

    def rows(self):
        return [(m, self[self.target_field(m.user_id)]) for m in self.reps]

    def clean(self):
        data = super().clean()
        start, due = data.get("start_date"), data.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date is before the start date.")
        elif start and due:
            for name, message in window_errors(start, due).items():
                self.add_error(name, message)
        if self.reps and not any(data.get(self.target_field(m.user_id)) is not None for m in self.reps):
            raise forms.ValidationError("Give at least one rep a target (leave a rep empty to set none for them).")
        return data


class DashboardFilterForm(forms.Form):
    PERIODS = [("month", "This month"), ("quarter", "This quarter"), ("custom", "Custom dates")]

    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="All my teams")
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="month")
    start = PacerDateField(widget=DateInput, required=False, label="From")
    end = PacerDateField(widget=DateInput, required=False, label="To")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "month"
        if data["period"] == "custom":
            start, end = data.get("start"), data.get("end")
            if bool(start) != bool(end):  # neither yet: the dates have just appeared; this month meanwhile
                raise forms.ValidationError("Give both dates of a custom period.")
            if start and end and end < start:
                self.add_error("end", "The end is before the start.")
        return data
