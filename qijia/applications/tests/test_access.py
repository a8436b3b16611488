"""Role × organisation matrix: nobody sees or changes an application that is not theirs; list
pages stay within a query ceiling."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qijia.applications.testing import filled_application, make_world
from qijia.core.testing import OrgUnitFactory, make_user
from qijia.identity.roles import OrgKind

from .helpers import advance

pytestmark = pytest.mark.django_db

#: who → (may open the detail page, may approve)
MATRIX = {
    "applicant": (True, False),
    "other_enterprise": (False, False),
    "officer": (True, False),
    "approver": (True, True),
    "other_section_officer": (False, False),
    "other_section_approver": (False, False),
    "bureau_leader": (True, True),
    "inspector": (True, False),
    "town": (False, False),
    "partner": (False, False),
    "expert": (False, False),
}


def _actor(name: str, world, other):
    return {
        "applicant": lambda: world.applicant,
        "other_enterprise": lambda: make_user("enterprise"),
        "officer": lambda: world.officer,
        "approver": lambda: world.approver,
        "other_section_officer": lambda: other.officer,
        "other_section_approver": lambda: other.approver,
        "bureau_leader": lambda: make_user(
            "approver",
            org_unit=OrgUnitFactory(
                code="leadership-test", name="局领导班子", kind=OrgKind.LEADERSHIP
            ),
        ),
        "inspector": lambda: make_user("inspector"),
        "town": lambda: make_user("town"),
        "partner": lambda: make_user("partner"),
        "expert": lambda: make_user("expert"),
    }[name]()


@pytest.mark.parametrize("who", list(MATRIX))
def test_role_and_organisation_matrix(client, world, who):
    other = make_world(section_code="section-matrix-other")
    app = advance(world, to="awaiting_approval")
    actor = _actor(who, world, other)
    may_view, may_approve = MATRIX[who]
    client.force_login(actor)
    detail = client.get(reverse("applications:detail", args=[app.pk]))
    assert (detail.status_code == 200) == may_view
    api = client.get(f"/api/v1/applications/{app.pk}")
    assert (api.status_code == 200) == may_view
    listed = client.get(f"/api/v1/applications/?q={app.reference}").json()
    assert (len(listed) == 1) == may_view
    client.post(
        reverse("applications:act", args=[app.pk, "approve"]), {"amount": "1000", "note": "同意"}
    )
    app.refresh_from_db()
    assert (app.status == "approved") == may_approve


def test_list_page_query_count_does_not_grow_with_rows(
    client, world, django_assert_max_num_queries
):
    for seed in range(6):
        advance(world, filled_application(world, photo_seed=100 + seed), to="submitted")
    client.force_login(world.officer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("applications:list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("applications:queue")).status_code == 200
