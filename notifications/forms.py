import functools
import zoneinfo

from django import forms

from .models import Notification
from .selectors import notification_channel


@functools.cache
def _timezone_choices():
    # Scanning the tz database costs a few milliseconds: once per process is enough.
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class NotificationSettingsForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Your timezone", help_text="Reminders, quiet hours and “today” follow this timezone."
    )
    reminder_hour = forms.TypedChoiceField(
        label="Daily check-in reminder at",
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text="On working days when you have not logged any progress yet.",
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet hours from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Emails due in this window wait until it ends; in-app notifications still arrive.",
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="May be earlier than the start, e.g. 22:00 until 07:00.",
    )

    def __init__(self, *args, user, **kwargs):
        initial = {
            "timezone": user.timezone,
            "reminder_hour": user.reminder_hour,
            "quiet_hours_start": user.quiet_hours_start,
            "quiet_hours_end": user.quiet_hours_end,
            **{self.pref_field(kind): notification_channel(user=user, kind=kind) for kind in Notification.Kind.values},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["timezone"].choices = _timezone_choices()
        for kind in Notification.Kind:
            self.fields[self.pref_field(kind)] = forms.ChoiceField(
                label=kind.label, choices=Notification.Channel.choices, widget=forms.RadioSelect
            )

    @staticmethod
    def pref_field(kind):
        return f"pref_{kind}"

    def pref_fields(self):
        return [self[self.pref_field(kind)] for kind in Notification.Kind.values]

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "timezone": data["timezone"],
            "reminder_hour": data["reminder_hour"],
            "quiet_hours_start": data["quiet_hours_start"],
            "quiet_hours_end": data["quiet_hours_end"],
            "prefs": {kind: data[self.pref_field(kind)] for kind in Notification.Kind.values},
        }
