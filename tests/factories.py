"""factory_boy factories that go through the services, so every row is audited like real data."""

import factory

from communitas.accounts import services as account_services
from communitas.accounts.models import Membership, Organization
from communitas.participants import services as participant_services

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.Factory):
    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organization.Kind.SERVICE_CENTER
    jurisdiction = "US-OR"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return account_services.organization_create(**kwargs)


def make_user(organization, role=Membership.Role.COORDINATOR, email=None, password=PASSWORD):
    email = email or f"{role}-{factory.Faker._get_faker().uuid4()[:8]}@example.org"
    user = account_services.user_create(email=email, password=password, full_name=email.split("@")[0])
    account_services.membership_create(user=user, organization=organization, role=role)
    return user


class ParticipantFactory(factory.Factory):
    class Meta:
        model = dict

    organization = None
    display_name = factory.Faker("name")
    email = factory.Faker("email")
    phone = factory.Faker("numerify", text="+1 503 555 ####")
    preferred_language = "en"
    pronouns = "they/them"

    @classmethod
    def _create(cls, model_class, organization, **kwargs):
        return participant_services.participant_create(organization=organization, actor=None, **kwargs)


def make_support_person(participant, **overrides):
    fields = {"name": "Sam Rivera", "relationship": "friend", "email": "sam@example.org", "may_contact": True}
    fields.update(overrides)
    return participant_services.support_person_create(participant=participant, actor=None, **fields)
