from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from qijia.identity.models import OrgUnit
from qijia.identity.roles import TOWN_KINDS

from .models import EnterpriseStatus, ImportKind, Industry, SizeClass
from .selectors import EnterpriseFilters


class EnterpriseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("名称或统一社会信用代码"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("输入企业名称或信用代码的一部分"),
                "type": "search",
                "autocomplete": "off",
            }
        ),
    )
    town = forms.ModelChoiceField(
        label=_("镇街"), required=False, queryset=OrgUnit.objects.none(), empty_label=_("全部镇街")
    )
    industry = forms.ModelChoiceField(
        label=_("行业"), required=False, queryset=Industry.objects.all(), empty_label=_("全部行业")
    )
    size_class = forms.ChoiceField(
        label=_("规模"), required=False, choices=[("", _("全部规模")), *SizeClass.choices]
    )
    status = forms.ChoiceField(
        label=_("经营状态"),
        required=False,
        choices=[("", _("全部状态")), *EnterpriseStatus.choices],
    )

    def __init__(self, *args, town_fixed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        town_field = cast(forms.ModelChoiceField, self.fields["town"])
        town_field.queryset = OrgUnit.objects.filter(kind__in=TOWN_KINDS).order_by("code")
        if town_fixed:
            # A town officer's list is their town already: the filter would only confuse.
            del self.fields["town"]

    def filters(self) -> EnterpriseFilters:
        data = self.cleaned_data if self.is_valid() else {}
        town = data.get("town")
        industry = data.get("industry")
        return EnterpriseFilters(
            q=(data.get("q") or "").strip(),
            town=town.pk if town else None,
            industry=industry.pk if industry else "",
            size_class=data.get("size_class") or "",
            status=data.get("status") or "",
        )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("数据类型"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("文件（.xlsx 或 UTF-8 编码的 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _town_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (name, name)
        for name in OrgUnit.objects.filter(kind__in=TOWN_KINDS)
        .order_by("code")
        .values_list("name", flat=True)
    ]


def _industry_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(i.code, f"{i.code} {i.name}") for i in Industry.objects.all()]


class EnterpriseForm(forms.Form):
    """Raw values for ``enterprise_create`` / ``enterprise_update``: the services apply the rules
    (validation.py), and their field errors are shown next to these fields."""

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    name = forms.CharField(label=_("企业名称"), max_length=200)
    town = forms.ChoiceField(label=_("镇街"))
    industry = forms.ChoiceField(label=_("行业"), required=False)
    address = forms.CharField(label=_("地址"), required=False, max_length=300)
    phone = forms.CharField(label=_("电话"), required=False, max_length=30)
    email = forms.CharField(label=_("电子邮箱"), required=False, max_length=254)
    established_on = forms.CharField(
        label=_("成立日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    size_class = forms.ChoiceField(
        label=_("规模"), required=False, choices=[("", "—"), *SizeClass.choices]
    )
    status = forms.ChoiceField(label=_("经营状态"), choices=EnterpriseStatus.choices)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["town"]).choices = _town_choices()
        cast(forms.ChoiceField, self.fields["industry"]).choices = _industry_choices()
        if editing:
            self.fields["uscc"].disabled = True

    @classmethod
    def initial_for(cls, enterprise) -> dict:
        return {
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "town": enterprise.town.name,
            "industry": enterprise.industry_id or "",
            "address": enterprise.address,
            "phone": enterprise.phone,
            "email": enterprise.email,
            "established_on": enterprise.established_on.isoformat()
            if enterprise.established_on
            else "",
            "size_class": enterprise.size_class,
            "status": enterprise.status,
        }
