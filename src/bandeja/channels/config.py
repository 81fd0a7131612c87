from __future__ import annotations

from bandeja.channels.base import ChannelConfig
from bandeja.core.channels.actions import credentials
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.security import SecretBox


def channel_config(channel: ChannelAccount, box: SecretBox) -> ChannelConfig:
    """What a connector needs of a channel account, secrets decrypted."""
    return ChannelConfig(
        id=channel.id,
        workspace_id=channel.workspace_id,
        platform=channel.platform,
        external_id=channel.external_id,
        name=channel.name,
        secrets=credentials(channel, box),
        settings=dict(channel.settings),
    )
