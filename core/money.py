"""Money: amounts are Decimals with two places, always next to an ISO 4217 currency code."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    SAR = "SAR", _("Saudi riyal (SAR)")
    AED = "AED", _("UAE dirham (AED)")
    EGP = "EGP", _("Egyptian pound (EGP)")
    JOD = "JOD", _("Jordanian dinar (JOD)")
    KWD = "KWD", _("Kuwaiti dinar (KWD)")
    QAR = "QAR", _("Qatari riyal (QAR)")
    OMR = "OMR", _("Omani rial (OMR)")
    BHD = "BHD", _("Bahraini dinar (BHD)")
    MAD = "MAD", _("Moroccan dirham (MAD)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")


def amount_field(verbose_name, **kwargs) -> models.DecimalField:
    """A non-negative amount of money, up to a trillion with two decimal places."""
    kwargs.setdefault("max_digits", 18)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("validators", [MinValueValidator(Decimal("0"), message=_("An amount cannot be negative."))])
    return models.DecimalField(verbose_name, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", Currency.choices)
    kwargs.setdefault("default", Currency.SAR)
    return models.CharField(_("currency"), **kwargs)
