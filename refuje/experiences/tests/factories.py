import factory

from refuje.common.testing.factories import DepartmentFactory, HotelFactory
from refuje.experiences.models import Experience, ExperienceImage


class ExperienceFactory(factory.django.DjangoModelFactory[Experience]):
    class Meta:
        model = Experience

    hotel = factory.SubFactory(HotelFactory)
    department = factory.LazyAttribute(lambda e: DepartmentFactory.create(hotel=e.hotel))
    title_ar = factory.Sequence(lambda n: f"تجربة {n}")
    title_en = factory.Sequence(lambda n: f"Experience {n}")
    description_ar = "وصف"
    description_en = "A description"
    price_minor = 15000
    currency = "SAR"
    duration_minutes = 60
    capacity = 2


class ExperienceImageFactory(factory.django.DjangoModelFactory[ExperienceImage]):
    """A row only: the names point at no stored file (tests of files upload through the API)."""

    class Meta:
        model = ExperienceImage

    experience = factory.SubFactory(ExperienceFactory)
    image = factory.Sequence(lambda n: f"experiences/test/{n}.jpg")
    thumbnail = factory.Sequence(lambda n: f"experiences/test/{n}-thumb.jpg")
    width = 800
    height = 600
    position = factory.Sequence(lambda n: n)
