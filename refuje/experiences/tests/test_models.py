import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from refuje.experiences.models import Experience

from .factories import ExperienceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price_minor", -1),
        ("duration_minutes", 0),
        ("capacity", 0),
        ("currency", "sar"),
        ("rating_average", "5.01"),
    ],
)
def test_the_database_refuses_impossible_values(field, value):
    experience = ExperienceFactory.create()

    # A bulk update skips every Python-side check: only the database stands in the way.
    with pytest.raises(IntegrityError), transaction.atomic():
        Experience.objects.filter(pk=experience.pk).update(**{field: value})


def test_full_clean_names_the_department_of_another_hotel():
    experience = ExperienceFactory.create()
    experience.department = ExperienceFactory.create().department

    with pytest.raises(ValidationError) as caught:
        experience.full_clean()

    assert "department" in caught.value.message_dict
