from io import StringIO

from django.core.management import call_command

from accounts.models import User
from audit.verification import verify_audit_log
from core.demo_data import ACCOUNTS, PHASES
from procurement.models import Agency, Phase, Programme


def test_seed_demo_is_idempotent_and_leaves_a_verified_log(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (User.objects.count(), Agency.objects.count(), Programme.objects.count(), Phase.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), Agency.objects.count(), Programme.objects.count(), Phase.objects.count()) == counts

    assert counts[3] == len(PHASES)
    for email, *_ in ACCOUNTS:
        assert email in out.getvalue()
    programme = Programme.objects.get(code="NEGP")
    assert programme.phases_budget() <= programme.budget
    assert programme.name_ar and all(phase.name_ar for phase in programme.phases.all())

    from audit.keys import load_signing_key

    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem
    assert result.checkpoints_verified >= 1
    assert result.head_sequence == result.latest_checkpoint


def test_demo_accounts_can_sign_in(client, db):
    call_command("seed_demo", stdout=StringIO())
    from core.demo_data import DEMO_PASSWORD

    for email, *_ in ACCOUNTS:
        client.logout()
        response = client.post("/en/accounts/sign-in/", {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert client.get("/en/dashboard/").status_code == 200
