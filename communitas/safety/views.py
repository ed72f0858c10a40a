from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitas.safety import selectors, services
from communitas.safety.permissions import require_alert_handler


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done (who contacted the participant, when, outcome)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@login_required
def alert_list(request):
    membership = require_alert_handler(request.membership)
    show_all = request.GET.get("all") == "1"
    alerts = selectors.alerts_for_membership(membership, open_only=not show_all)[:200]
    return render(request, "safety/alert_list.html", {"alerts": alerts, "show_all": show_all})


@login_required
def alert_detail(request, alert_id: int):
    alert = selectors.alert_get_for_user(require_alert_handler(request.membership), alert_id)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and alert.acknowledged_at is None and form.is_valid():
        services.safety_alert_acknowledge(alert=alert, actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Alert acknowledged."))
        return redirect("safety:alerts")
    return render(request, "safety/alert_detail.html", {"alert": alert, "form": form})
