import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.gov")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    full_name_ar = factory.Sequence(lambda n: f"شخص {n}")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        from django.contrib.auth.models import Group

        self.groups.set([Group.objects.get_or_create(name=str(role))[0] for role in extracted])
        self.__dict__.pop("role_names", None)
