"""What the UI calls the core's values (statuses, kinds, platforms, activity), marked for
translation with ``N_`` (or ``C_`` with a context): templates translate them with
``_(labels.KIND[value])`` or ``pgettext("status", labels.STATUS[value])``."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


def C_(context: str, message: str) -> str:
    """A label whose translation depends on where it shows: Spanish says "Completadas" for the
    view, "Completada" for the status and "Completar" for the button."""
    return message


# Translated with pgettext("view", ...) and pgettext("status", ...).
BUILTIN_VIEWS = {
    "mine": C_("view", "Mine"),
    "unassigned": C_("view", "Unassigned"),
    "open": C_("view", "All open"),
    "follow_up": C_("view", "Follow-up"),
    "complete": C_("view", "Complete"),
    "mentions": C_("view", "Mentions"),
}

STATUS = {
    "open": C_("status", "Open"),
    "follow_up": C_("status", "Follow-up"),
    "complete": C_("status", "Complete"),
}

KIND = {"dm": N_("DM"), "comment": N_("Comment"), "mention": N_("Mention")}

PRIORITY = {
    "none": N_("No priority"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}

# Product names stay as they are in every language.
PLATFORM = {
    "messenger": "Messenger",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "x": "X",
    "linkedin": "LinkedIn",
    "telegram": "Telegram",
}

DELIVERY = {
    "queued": N_("Sending…"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "read": N_("Seen"),
    "failed": N_("Not sent"),
    "received": N_("Received"),
}

# Activity lines of the thread; {who} is the person who acted.
ACTIVITY = {
    "conversation.assigned": N_("{who} assigned this to {assignee}"),
    "conversation.unassigned": N_("{who} unassigned this"),
    "conversation.team_set": N_("{who} handed this to {team}"),
    "conversation.tagged": N_("{who} changed the tags"),
    "conversation.completed": N_("{who} marked this complete"),
    "conversation.reopened": N_("{who} reopened this"),
    "conversation.follow_up": N_("{who} set a follow-up"),
    "conversation.follow_up_due": N_("Follow-up time reached: back in the open queue"),
    "conversation.priority": N_("{who} set the priority"),
    "reply.queued": N_("{who} sent a reply"),
    "reply.failed": N_("A reply could not be sent"),
    "reply.retried": N_("{who} retried a reply"),
    "reply.sent": N_("A reply was sent"),
    "note.added": N_("{who} added a note"),
    "contact.merged": N_("{who} merged contacts"),
    "contact.updated": N_("{who} updated the contact"),
}
SOMEBODY = N_("Someone")
SYSTEM = N_("Bandeja")
NOBODY = N_("nobody")
