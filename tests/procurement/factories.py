import datetime
from decimal import Decimal

import factory

from procurement.models import Agency, Phase, Programme


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AG{n:03d}")
    name_en = factory.Sequence(lambda n: f"Ministry number {n}")
    name_ar = factory.Sequence(lambda n: f"الوزارة رقم {n}")
    kind = Agency.Kind.MINISTRY
    time_zone = "Asia/Riyadh"


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"PRG{n:03d}")
    name_en = factory.Sequence(lambda n: f"Programme {n}")
    name_ar = factory.Sequence(lambda n: f"البرنامج {n}")
    sponsor_agency = factory.SubFactory(AgencyFactory)
    budget = Decimal("1000000.00")
    currency = "SAR"
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2028, 12, 31)


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    programme = factory.SubFactory(ProgrammeFactory)
    order = factory.Sequence(lambda n: n + 1)
    name_en = factory.Sequence(lambda n: f"Phase {n}")
    name_ar = factory.Sequence(lambda n: f"المرحلة {n}")
    start_date = factory.LazyAttribute(lambda o: o.programme.start_date)
    end_date = factory.LazyAttribute(lambda o: o.programme.end_date)
    budget = Decimal("100000.00")
