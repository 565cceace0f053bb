"""The database refuses a payment that would take a contract's payments above its value (the service checks it
too, under the contract's row lock; the trigger holds whatever writes the row)."""

from django.db import migrations

POSTGRESQL = """
CREATE OR REPLACE FUNCTION contracts_payment_within_value() RETURNS trigger AS $$
DECLARE
    contract_value numeric;
    others numeric;
BEGIN
    SELECT value INTO contract_value FROM contracts_contract WHERE id = NEW.contract_id FOR UPDATE;
    SELECT COALESCE(SUM(amount), 0) INTO others FROM contracts_payment
        WHERE contract_id = NEW.contract_id AND id IS DISTINCT FROM NEW.id;
    IF others + NEW.amount > contract_value THEN
        RAISE EXCEPTION 'the payments of contract % would exceed its value (% > %)',
            NEW.contract_id, others + NEW.amount, contract_value
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER contracts_payment_within_value BEFORE INSERT OR UPDATE ON contracts_payment
    FOR EACH ROW EXECUTE FUNCTION contracts_payment_within_value();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS contracts_payment_within_value ON contracts_payment;
DROP FUNCTION IF EXISTS contracts_payment_within_value();
"""
SQLITE = [
    """
CREATE TRIGGER contracts_payment_within_value_insert BEFORE INSERT ON contracts_payment
WHEN (SELECT COALESCE(SUM(amount), 0) FROM contracts_payment WHERE contract_id = NEW.contract_id) + NEW.amount
     > (SELECT value FROM contracts_contract WHERE id = NEW.contract_id)
BEGIN SELECT RAISE(ABORT, 'the payments of the contract would exceed its value'); END;
""",
    """
CREATE TRIGGER contracts_payment_within_value_update BEFORE UPDATE ON contracts_payment
WHEN (SELECT COALESCE(SUM(amount), 0) FROM contracts_payment WHERE contract_id = NEW.contract_id AND id <> OLD.id)
     + NEW.amount > (SELECT value FROM contracts_contract WHERE id = NEW.contract_id)
BEGIN SELECT RAISE(ABORT, 'the payments of the contract would exceed its value'); END;
""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS contracts_payment_within_value_insert;",
    "DROP TRIGGER IF EXISTS contracts_payment_within_value_update;",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0003_monitoring")]

    operations = [migrations.RunPython(create, drop)]
