import factory

from refuje.common.testing.factories import HotelFactory
from refuje.qrcodes.models import QRCode, QRTargetType


class QRCodeFactory(factory.django.DjangoModelFactory[QRCode]):
    class Meta:
        model = QRCode

    hotel = factory.SubFactory(HotelFactory)
    target_type = QRTargetType.ROOM
    room_number = factory.Sequence(lambda n: str(100 + n))
    label = factory.LazyAttribute(lambda code: f"Room {code.room_number}")
