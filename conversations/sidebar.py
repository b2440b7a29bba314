"""What the chat pages keep in view beside the chat: the user's recent conversations (the side
list) and the collections a conversation searches. Reads only; the views put them in context."""

from dataclasses import dataclass

from conversations.models import Conversation
from documents.models import Collection

# Enough to move between the conversations of the last days; the start page lists them all.
SIDE_LIST_LENGTH = 15


@dataclass(frozen=True)
class SideList:
    conversations: list[Conversation]  # the user's own, most recent first
    current_id: int | None  # the conversation on the page, marked in the list
    more: bool  # older conversations exist than those listed


def side_list(user, *, current: Conversation | None = None) -> SideList:
    """The user's most recent conversations, at most SIDE_LIST_LENGTH of them."""
    recent = Conversation.objects.for_user(user).recent().only("pk", "title", "updated_at")
    listed = list(recent[: SIDE_LIST_LENGTH + 1])  # one more than shown says whether there are more
    return SideList(listed[:SIDE_LIST_LENGTH], current.pk if current else None, len(listed) > SIDE_LIST_LENGTH)


@dataclass(frozen=True)
class Searched:
    """What a conversation's questions search, as its owner may see it now."""

    everything: bool  # none chosen: every collection the owner may read, at each question
    collections: list[Collection]  # the chosen ones the owner may still read
    withdrawn: int  # chosen ones no longer shared with the owner (searched no more, and not named)


def searched(conversation: Conversation, user) -> Searched:
    chosen = list(conversation.collections.all())
    readable = set(
        Collection.objects.readable_by(user).filter(pk__in=[c.pk for c in chosen]).values_list("pk", flat=True)
    )
    still = [collection for collection in chosen if collection.pk in readable]
    return Searched(everything=not chosen, collections=still, withdrawn=len(chosen) - len(still))
