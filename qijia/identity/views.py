from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from qijia.audit.services import audit_record


class QijiaLoginView(LoginView):
    template_name = "identity/login.html"
    form_class = AuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()  # the user login() has just put on the request
        audit_record(actor=user, action="identity.login", obj=user)
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(actor=request.user, action="identity.logout", obj=request.user)
    logout(request)
    return redirect("identity:login")
