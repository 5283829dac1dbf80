"""Reading Asterisk's answer to CoreShowChannels (ami_listener/channel_list.py)."""

from __future__ import annotations

import pytest

from ami_listener.channel_list import ReconcileError, listed_uniqueids


class TestTheChannelList:
    def test_is_read_from_the_reply_and_its_events(self) -> None:
        reply = [
            {"Response": "Success", "EventList": "start", "Message": "Channels will follow"},
            {"Event": "CoreShowChannel", "Uniqueid": "1.1", "Channel": "SIP/a-1"},
            {"Event": "CoreShowChannel", "Uniqueid": "1.2", "Channel": "SIP/b-2"},
            {"Event": "CoreShowChannelsComplete", "EventList": "Complete", "ListItems": "2"},
        ]
        assert listed_uniqueids(reply) == {"1.1", "1.2"}

    def test_an_error_or_an_unfinished_list_is_refused(self) -> None:
        with pytest.raises(ReconcileError, match="Permission denied"):
            listed_uniqueids({"Response": "Error", "Message": "Permission denied"})
        with pytest.raises(ReconcileError, match="CoreShowChannelsComplete"):
            listed_uniqueids([{"Response": "Success"}, {"Event": "CoreShowChannel"}])
