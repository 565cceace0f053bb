"""Shared pieces for django-filter FilterSets."""

import datetime

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(9998, 12, 31)


class BoundedDateField(forms.DateField):
    """A date that time-zone arithmetic (start of day, next day) can never push out of range."""

    default_validators = [
        MinValueValidator(EARLIEST_DATE, message=_("Enter a date on or after 1 January 1900.")),
        MaxValueValidator(LATEST_DATE, message=_("Enter a date before the year 9999.")),
    ]


class BoundedDateFilter(django_filters.DateFilter):
    field_class = BoundedDateField
