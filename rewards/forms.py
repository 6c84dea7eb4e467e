"""Browser forms of the rewards app. They parse input; the services decide every rule."""

from django import forms
from django.conf import settings

from goals.models import Kpi
from teams.models import Team

from .models import RewardTier
from .selectors import PERIODS
from .services import TIER_FIELDS


class TierForm(forms.ModelForm):
    class Meta:
        model = RewardTier
        fields = list(TIER_FIELDS)  # what tier_create / tier_update accept
        labels = {
            "threshold_percent": "Threshold (% of target)",
            "streak_days": "Streak length (working days)",
            "kpi": "Only for this KPI",
            "owner_kind": "Goals owned by",
            "team_recipients": "On team goals, award",
            "needs_approval": "A manager approves the bonus before it is paid",
        }
        help_texts = {
            "threshold_percent": "For goals and micro goals: e.g. 80 for Commit, 100 for Target, 120 for Stretch.",
            "streak_days": "For streaks: consecutive working days with at least one entry (weekends and holidays "
            "do not break a streak).",
            "kpi": "Leave empty for every KPI.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = Kpi.objects.filter(is_active=True)
        self.fields["kpi"].empty_label = "Any KPI"
        self.fields["amount"].label = f"Bonus amount ({settings.PACER['CURRENCY']})"
        self.fields["threshold_percent"].widget.attrs.update(min="0.01", step="0.01")
        self.fields["streak_days"].widget.attrs.update(min="2")
        for name in ("points", "amount", "threshold_percent", "streak_days"):
            self.fields[name].required = False

    def _post_clean(self):
        # The services validate (and report) the rules; the model's own checks would run them twice.
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class DecisionForm(forms.Form):
    ACTIONS = [("approve", "Approve"), ("reject", "Reject"), ("keep", "Keep"), ("revoke", "Revoke")]
    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "Why (the rep sees it)"}),
        help_text="Required to reject, keep or revoke.",
    )


class BoardForm(forms.Form):
    """Which board: a team the viewer may see, a period (or one of those teams' goals), a KPI. Every field is optional:
    what is missing or not the viewer's to pick falls back to the default (the view shows what it used)."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None, required=False)
    period = forms.ChoiceField(choices=list(PERIODS.items()), initial="month", required=False)
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), label="KPI", empty_label=None, required=False)

    def __init__(self, *args, teams, goals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(id__in=[t.id for t in teams]).order_by("name")
        self.fields["team"].choices = [(t.id, t.name) for t in teams]  # rendered from the list: no query
        self.fields["period"].choices = [*PERIODS.items(), *((f"goal-{g.id}", f"Goal: {g.title}") for g in goals)]
        self.fields["kpi"].queryset = Kpi.objects.filter(is_active=True)

    def chosen(self) -> dict:
        """The valid choices of a bound form (an invalid or missing field is left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class PreferenceForm(forms.Form):
    hide_name_from_peers = forms.BooleanField(
        required=False, label="Show me as “a teammate” on leaderboards my peers see (managers still see my name)"
    )
