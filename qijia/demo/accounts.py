"""Demo accounts: one per role, each where that role belongs, all with one known password.

For demonstrations and the set-up contract (``make demo`` prints them). The command that calls
this refuses to run unless DEBUG is on or it is forced, because a known password on a production
system is an open door.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.db import transaction

from qijia.audit.services import audit_record
from qijia.core.errors import ValidationFailed
from qijia.enterprises.models import Enterprise, EnterpriseStatus
from qijia.identity.models import OrgUnit, User
from qijia.identity.roles import Role

#: Meets AUTH_PASSWORD_VALIDATORS (length, not common, not numeric, unlike the usernames).
DEMO_PASSWORD = "Qijia-Demo-2026!"
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"


@dataclass(frozen=True)
class DemoAccountSpec:
    role: str
    username: str
    display_name: str
    #: Code of the bureau org unit (orgs.BUREAU_UNITS); towns and enterprises are chosen.
    org_code: str | None = None


DEMO_ACCOUNTS: tuple[DemoAccountSpec, ...] = (
    DemoAccountSpec(Role.ENTERPRISE, "demo-enterprise", "企业演示用户"),
    DemoAccountSpec(Role.OFFICER, "demo-officer", "经办演示用户", "section-enterprise-service"),
    DemoAccountSpec(Role.APPROVER, "demo-approver", "审批演示用户", "bureau-leadership"),
    DemoAccountSpec(Role.TOWN, "demo-town", "镇街演示用户"),
    DemoAccountSpec(Role.EXPERT, "demo-expert", "专家演示用户"),
    DemoAccountSpec(Role.INSPECTOR, "demo-inspector", "纪检演示用户", "inspection-group"),
    DemoAccountSpec(Role.PARTNER, "demo-partner", "协作部门演示用户", "partner-tax"),
    DemoAccountSpec(Role.ADMIN, "demo-admin", "管理员演示用户", "section-informatization"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    role_label: str
    unit: str
    created: bool


def demo_enterprise() -> Enterprise:
    """The enterprise the demo enterprise user works for: an active medium or large firm that
    holds shares of others (so its page shows people, holdings and a full trend), else the first
    active one. Deterministic for a given seed."""
    candidates = Enterprise.objects.filter(status=EnterpriseStatus.ACTIVE).order_by("id")
    chosen = (
        candidates.filter(size_class__in=["medium", "large"], holdings__isnull=False).first()
        or candidates.first()
        or Enterprise.objects.order_by("id").first()
    )
    if chosen is None:
        raise ValidationFailed(
            "还没有企业数据，请先运行 qijia seed --scale demo", code="demo_no_enterprises"
        )
    return chosen


def demo_accounts_ensure(*, actor: object | None = None) -> list[DemoAccount]:
    """Create or reset the demo accounts (idempotent: same usernames, same password, same
    places). Returns one row per account for the table the command prints."""
    enterprise = demo_enterprise()
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=_codes())}
    missing = sorted(_codes() - units.keys())
    if missing:
        raise ValidationFailed(
            f"缺少机构 {', '.join(missing)}，请先运行 qijia seed", code="demo_missing_units"
        )
    result = []
    with transaction.atomic():
        for spec in DEMO_ACCOUNTS:
            org_unit = units.get(spec.org_code) if spec.org_code else None
            bound_enterprise = None
            if spec.role == Role.ENTERPRISE:
                bound_enterprise = enterprise
            elif spec.role == Role.TOWN:
                org_unit = enterprise.town  # the town of the demo enterprise, so they meet
            user = User.objects.select_for_update().filter(username=spec.username).first()
            created = user is None
            user = user or User(username=spec.username)
            before = None if created else _snapshot(user)
            user.display_name = spec.display_name
            user.role = spec.role
            user.org_unit = org_unit
            user.enterprise = bound_enterprise
            user.is_active = True
            user.is_staff = spec.role == Role.ADMIN  # the admin may open /django-admin/
            try:
                password_validation.validate_password(DEMO_PASSWORD, user)
            except Exception as exc:  # ValidationError from the configured validators
                raise ValidationFailed(
                    f"演示密码不符合密码规则：{' '.join(getattr(exc, 'messages', [str(exc)]))}",
                    code="demo_password_invalid",
                ) from exc
            user.set_password(DEMO_PASSWORD)
            user.save()
            audit_record(
                actor=actor,
                action="identity.demo_account_created"
                if created
                else "identity.demo_account_reset",
                obj=user,
                before=before,
                after=_snapshot(user),
            )
            unit = bound_enterprise or org_unit
            result.append(
                DemoAccount(
                    username=user.username,
                    role=user.role,
                    role_label=str(user.get_role_display()),
                    unit=str(unit) if unit else "—",
                    created=created,
                )
            )
    _unlock([a.username for a in result])
    return result


def _codes() -> set[str]:
    return {s.org_code for s in DEMO_ACCOUNTS if s.org_code}


def _snapshot(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "role": user.role,
        "org_unit": user.org_unit_id,
        "enterprise": user.enterprise_id,
        "is_active": user.is_active,
    }


def _unlock(usernames: list[str]) -> None:
    """A demo account locked out by earlier wrong passwords should work again after a reset."""
    try:
        from axes.utils import reset
    except ImportError:  # axes not installed: nothing to unlock
        return
    for username in usernames:
        reset(username=username)
