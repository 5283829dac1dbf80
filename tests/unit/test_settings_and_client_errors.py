"""Settings from the environment, and the client's mapping of fault codes."""

from __future__ import annotations

import pytest

from client import errors
from settings import DEFAULT_DATABASE_URL, Settings


class TestSettings:
    def test_defaults_need_no_environment(self) -> None:
        s = Settings.from_env({})
        assert (s.database_url, s.asterisk_tz, s.ami_port) == (DEFAULT_DATABASE_URL, "UTC", 5038)

    def test_every_setting_has_an_environment_variable(self) -> None:
        s = Settings.from_env(
            {
                "SIPTAR_DATABASE_URL": "postgresql+psycopg2://u@h/db",
                "SIPTAR_PUBLIC_URL": "https://billing.example",
                "SIPTAR_AMI_HOST": "10.1.1.1",
                "SIPTAR_AMI_PORT": "5039",
                "SIPTAR_AMI_USER": "u",
                "SIPTAR_AMI_SECRET": "s",
                "SIPTAR_ASTERISK_TZ": "Europe/Madrid",
            }
        )
        assert s.ami_port == 5039
        assert s.tz.key == "Europe/Madrid"
        assert s.public_url == "https://billing.example"

    def test_a_flag_overrides_the_environment(self) -> None:
        s = Settings.from_env({"SIPTAR_AMI_HOST": "a"}).with_overrides(ami_host="b", ami_port=None)
        assert (s.ami_host, s.ami_port) == ("b", 5038)

    def test_an_unknown_time_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="Mars/Olympus"):
            Settings.from_env({"SIPTAR_ASTERISK_TZ": "Mars/Olympus"})


class TestFaultCodes:
    @pytest.mark.parametrize(
        ("code", "cls"),
        [
            ("soap11env:Client.NotFound", errors.NotFound),
            ("soap11env:Client.NoRateForDestination", errors.NoRateForDestination),
            ("Client.InsufficientCredit", errors.InsufficientCredit),
            ("soap11env:Client.SchemaValidationError", errors.SchemaValidationError),
            ("soap11env:Server", errors.ServerError),
        ],
    )
    def test_a_known_code_maps_to_its_exception(self, code: str, cls: type) -> None:
        error = errors.error_for(code, "text")
        assert type(error) is cls
        assert error.code == code.rpartition(":")[2]

    def test_an_unknown_client_code_is_still_a_client_error(self) -> None:
        error = errors.error_for("soap11env:Client.SomethingNew", "text")
        assert isinstance(error, errors.ClientError)
        assert error.code == "Client.SomethingNew"
