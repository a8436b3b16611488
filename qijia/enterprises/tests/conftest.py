import pytest

from qijia.core.testing import EnterpriseFactory
from qijia.identity.models import OrgUnit


@pytest.fixture
def towns(db):
    units = list(
        OrgUnit.objects.filter(kind__in=["town", "subdistrict", "zone"]).order_by("code")[:2]
    )
    assert len(units) == 2, "reference towns are loaded by the suite's django_db_setup"
    return units


@pytest.fixture
def two_enterprises(towns):
    """Enterprise A in town X, enterprise B in town Y."""
    a = EnterpriseFactory(name="甲企业（东莞）有限公司", town=towns[0])
    b = EnterpriseFactory(name="乙企业（东莞）有限公司", town=towns[1])
    return a, b
