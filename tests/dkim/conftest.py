import pytest

from mfl.dkim import generate_key, public_key_record

from dkim_support import FakeDNS


@pytest.fixture(scope="session")
def rsa_key():
    return generate_key("rsa", 2048)


@pytest.fixture(scope="session")
def ed_key():
    return generate_key("ed25519")


@pytest.fixture
def resolver(rsa_key, ed_key):
    return FakeDNS({
        "rsa._domainkey.example.com": public_key_record(rsa_key),
        "ed._domainkey.example.com": public_key_record(ed_key),
    })
