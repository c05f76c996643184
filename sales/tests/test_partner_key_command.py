"""`manage.py create_partner_key CHANNEL` (SPEC §9): prints a key once, the
key authenticates as that channel, and only a hash of it is stored."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from sales.models import PartnerApiKey
from sales.partner_keys import partner_key_revoke
from sales.tests.factories import order_body

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/partner/orders/"


def run_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_partner_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def new_key(*args) -> str:
    out, _err = run_command(*args)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    key = lines[0].strip()
    assert key and " " not in key
    return key


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_prints_a_key_that_authenticates_as_the_channel(channel, sku):
    key = new_key("taobao")
    client = client_for(key)

    assert client.get(ORDERS).status_code == 200
    assert client.get("/api/v1/partner/stock/").status_code == 200
    response = client.post(ORDERS, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "taobao"


def test_key_is_printed_exactly_once_and_only_on_stdout(channel):
    out, err = run_command("taobao")
    key = out.strip()
    assert out.count(key) == 1
    assert key not in err
    assert err.strip()  # the operator is told to store it now


def test_only_a_hash_is_stored(channel):
    key = new_key("taobao")
    row = PartnerApiKey.objects.get()
    assert row.channel == channel
    assert row.hashed_key != key
    assert key not in row.hashed_key
    assert len(row.hashed_key) == 64
    int(row.hashed_key, 16)  # hex digest
    assert row.hashed_key == hashlib.sha256(key.encode()).hexdigest()
    secret = key.split("_", 2)[2]  # rt_<prefix>_<secret>; the secret may hold "_"
    assert len(secret) >= 16
    for value in (row.prefix, row.name, row.hashed_key, str(row)):
        assert secret not in value


def test_the_plain_key_is_nowhere_in_the_database(channel):
    key = new_key("taobao")
    secret = key.split("_", 2)[2]  # rt_<prefix>_<secret>; the secret may hold "_"
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    dumped = dump.getvalue()
    assert dumped  # the dump did cover the data
    assert '"sales.partnerapikey"' in dumped
    assert key not in dumped
    assert secret not in dumped


def test_each_run_prints_a_new_working_key(channel):
    first, second = new_key("taobao"), new_key("taobao")
    assert first != second
    assert PartnerApiKey.objects.filter(channel=channel).count() == 2
    assert client_for(first).get(ORDERS).status_code == 200
    assert client_for(second).get(ORDERS).status_code == 200


def test_name_option_is_recorded(channel):
    new_key("taobao", "--name", "淘宝 ERP 对接")
    assert PartnerApiKey.objects.get().name == "淘宝 ERP 对接"


def test_key_sees_only_its_own_channel(channel, other_channel, api, sku):
    number = api.post(ORDERS, order_body(), format="json",
                      HTTP_IDEMPOTENCY_KEY="k1").json()["number"]
    jd = client_for(new_key("jd"))
    assert jd.get(f"{ORDERS}{number}/").status_code == 404
    assert jd.get(ORDERS).json()["count"] == 0
    taobao = client_for(new_key("taobao"))
    assert taobao.get(f"{ORDERS}{number}/").status_code == 200


def test_revoked_key_stops_working(channel):
    key = new_key("taobao")
    client = client_for(key)
    assert client.get(ORDERS).status_code == 200
    partner_key_revoke(key=PartnerApiKey.objects.get())
    response = client.get(ORDERS)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_tampered_key_does_not_authenticate(channel):
    key = new_key("taobao")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client_for(tampered).get(ORDERS).status_code == 401
    assert client_for(key.upper()).get(ORDERS).status_code == 401
    assert client_for(key + "x").get(ORDERS).status_code == 401


def test_unknown_channel_is_a_command_error_naming_it(channel):
    with pytest.raises(CommandError) as excinfo:
        run_command("no-such-channel")
    assert "no-such-channel" in str(excinfo.value)
    assert not PartnerApiKey.objects.exists()


def test_unknown_channel_with_no_channels_at_all(db):
    with pytest.raises(CommandError) as excinfo:
        run_command("taobao")
    assert "taobao" in str(excinfo.value)
    assert not PartnerApiKey.objects.exists()


def test_channel_code_is_required(db):
    with pytest.raises(CommandError):
        run_command()
    assert not PartnerApiKey.objects.exists()
