"""Every domain model, imported once so that the metadata is complete (migrations, tests)."""

from bandeja.core.activity.models import Activity
from bandeja.core.channels.models import ChannelAccount, ChannelMember, Platform
from bandeja.core.contacts.models import Contact, ContactIdentity

# Imported for their flush hooks: the counters and the status copied onto tag rows.
from bandeja.core.conversations import counters, tag_status  # noqa: F401
from bandeja.core.conversations.models import (
    Conversation,
    ConversationCount,
    ConversationRead,
    ConversationTag,
    Kind,
    Priority,
    Status,
)
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction, Message
from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.notifications.models import Notification, NotificationKind
from bandeja.core.outbox.models import SendJob, SendStatus
from bandeja.core.saved_replies.models import SavedReply, SavedReplyVariant
from bandeja.core.tags.models import Tag, TagGroup
from bandeja.core.users.models import (
    ApiToken,
    AuthSession,
    Membership,
    Role,
    Team,
    TeamMember,
    User,
)
from bandeja.core.views.models import View
from bandeja.core.workspaces.models import Workspace
from bandeja.storage.base import Base

metadata = Base.metadata

__all__ = [
    "Activity",
    "ApiToken",
    "AuthSession",
    "AuthorType",
    "ChannelAccount",
    "ChannelMember",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationCount",
    "ConversationRead",
    "ConversationTag",
    "DeliveryStatus",
    "Direction",
    "IgnoredCount",
    "Kind",
    "Membership",
    "Message",
    "Note",
    "NoteMention",
    "Notification",
    "NotificationKind",
    "Platform",
    "Priority",
    "RawEvent",
    "RawEventStatus",
    "Role",
    "SavedReply",
    "SavedReplyVariant",
    "SendJob",
    "SendStatus",
    "Status",
    "Tag",
    "TagGroup",
    "Team",
    "TeamMember",
    "User",
    "View",
    "Workspace",
    "metadata",
]
