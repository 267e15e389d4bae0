"""Every sentence a person reads, in one place: bot replies, messenger notices and the widget's labels.

Message ids are plain English (``make extract-messages`` collects them into ``locales/``); ``say`` translates
one into a locale. Texts built from data (an entry, a tenant's contacts, a date) are functions here too. The
only texts elsewhere are the guided checks' outcomes and profession names in ``bot/flows/``: each sentence
stays beside the legal rule that chooses it, so the two are reviewed together with their sources. (The API's
error bodies are for developers, in English, and not translated.)
"""

from __future__ import annotations

from datetime import date

import locales
from knowledge.models import Entry
from knowledge.tenants import Tenant, pick
from locales import N_


def say(locale: str, text: str, **values: str) -> str:
    """``text`` (one of the message ids below) in ``locale``, with ``{placeholders}`` filled in."""
    translated = locales.gettext_for(locale)(text)
    return translated.format(**values) if values else translated


# --- small talk (NLG responses) -------------------------------------------------------------------------------
GOODBYE = N_("Goodbye and good luck! You can come back any time.")
THANKS = N_("You are welcome! Do you have another question?")
I_AM_A_BOT = N_(
    "I am a computer program (a chatbot), not a person and not an office. I answer from checked official "
    "information. If you want to talk to a person, I can show you where to get free advice."
)
CHITCHAT = N_(
    "I am here to help with questions about life in Germany. For example: How do I register my address? "
    "How do I find a Kita place? Do I need recognition for my profession?"
)
HOW_CAN_I_HELP = N_("How can I help you? Write your question about life in Germany.")

# --- buttons ---------------------------------------------------------------------------------------------------
TALK_TO_A_PERSON = N_("Talk to a person")
YES = N_("Yes")
NO = N_("No")
YES_IT_HELPED = N_("Yes, it helped")
NONE_OF_THESE = N_("None of these")
CHECK_MY_PROFESSION = N_("Check my profession")
CHECK_FOR_MY_CHILD = N_("Check for my child")
NOT_SURE_YET = N_("I do not know yet")

# --- browsing: the first screen and the topic menus (bot/menus.py) ------------------------------------------
WELCOME = N_(
    "Hello! I am Lotse. I answer questions about life in Germany from checked official information. "
    "Tap a topic or write your question."
)
ALSO_HERE = N_("You can also:")
CHOOSE_A_TOPIC = N_("{category}: tap a topic.")
MORE_TOPICS = N_("More topics")
BACK = N_("Back")
ALL_TOPICS = N_("All topics")
CHANGE_LANGUAGE = N_("Change language")
OPENING_HOURS_BUTTON = N_("Opening hours")

# --- answers from the knowledge base ---------------------------------------------------------------------------
DID_THIS_HELP = N_("Did this help?")
WHICH_TOPIC = N_("I am not sure what you mean. Which topic fits best?")
NO_ANSWER = N_(
    "I am sorry, I have no checked information on this question. I do not want to guess. "
    "A counselling centre can help you personally and for free."
)
CLOSE_TOPICS = N_("These topics are close to your question. They may not answer it, but you can have a look:")
IF_IN_DANGER = N_("If you or someone else is in danger, you can get help at once:")  # then the entry's summary
GENERAL_INFORMATION = N_(
    "This is general information on the topic. Your own case may be different: "
    "a counselling centre can look at it with you, for free."
)
NOT_IN_YOUR_LANGUAGE_GERMAN = N_("This information is not yet available in your language. Here it is in simple German.")
NOT_IN_YOUR_LANGUAGE_ENGLISH = N_("This information is not yet available in your language. Here it is in English.")
MACHINE_TRANSLATED = N_("This text was translated automatically. The German version is the reference.")
SOURCES_HEADING = N_("Sources:")
CHECKED_ON = N_("Checked on {date}")

# --- conversation ----------------------------------------------------------------------------------------------
WRITING_IN = N_("OK, from now on I write in {language}. What would you like to know?")
WHICH_LANGUAGE = N_("Which language would you like?")
FEEDBACK_THANKS = N_("Thank you for your feedback!")
FEEDBACK_SORRY = N_("Thank you. I am sorry that this did not help. You can ask in other words, or talk to a person.")
COUNSELLING_NATIONWIDE = N_(
    "Free migration counselling for adults (MBE) and the Youth Migration Services (JMD) help in many "
    "languages. Find a centre near you: https://bamf-navi.bamf.de"
)
TALK_TO_A_PERSON_HERE = N_("You can talk to a person here:")
OPENING_HOURS = N_("Opening hours: {hours}")
LANGUAGES = N_("Languages: {languages}")
EXAMPLE_CONTACTS = N_("These contacts are example data for a demonstration.")

# --- a counsellor in the chat (api/handover/) ------------------------------------------------------------------
HANDOVER_CONSENT = N_(
    "A counsellor of {centre} can answer you here in this chat. If you agree, they will see this conversation "
    "and your language. They will not see your name or number unless you write them. Do you want to talk to a "
    "counsellor now?"
)
CONNECT_ME = N_("Yes, connect me")
NO_THANKS = N_("No, thanks")
LEAVE_A_QUESTION = N_("Leave a question")
BACK_TO_LOTSE = N_("Back to Lotse")
HANDOVER_OPENED = N_(
    "Thank you. A counsellor will answer here as soon as possible. Your reference code is {code}. "
    'You can write more now. Lotse does not answer until you press "Back to Lotse".'
)
HANDOVER_ENDED = N_("You are talking to Lotse again. Your reference code is {code}. What would you like to know?")
HANDOVER_CLOSED = N_("The counsellor has ended the conversation. You are talking to Lotse again.")
HANDOVER_UNAVAILABLE = N_(
    "The counselling chat cannot be reached right now. Your messages are saved and will be passed on "
    "automatically. Your reference code is {code}. You can also contact the centre directly:"
)
ASK_CALLBACK_QUESTION = N_(
    "Write your question in one message. A counsellor will answer here in this chat. Please do not write "
    "your name or address unless you want to be contacted that way."
)
CALLBACK_SAVED = N_(
    "Thank you. Your question has been passed on. Your reference code is {code}. The answer will come here."
)
COUNSELLOR = N_("Counsellor")
OUTSIDE_HOURS = N_(
    "The counsellors are not in the chat right now. You can leave a question, and they will answer here."
)

# --- guided checks (questions; the outcomes are in bot/flows/) ------------------------------------------------
ASK_PROFESSION = N_(
    "Let us check your profession. Which profession did you learn? Write its name, for example nurse, "
    "engineer or electrician."
)
ASK_FEDERAL_STATE = N_("In which federal state do you want to work? For example Bavaria, Berlin or Saxony.")
ASK_LIVES_IN_GERMANY = N_("Do you live in Germany now?")
ASK_CHILD_AGE = N_(
    "Let us check the Kita place for your child. How old is your child? For example: 2 years or 18 months."
)
AGE_NOT_UNDERSTOOD = N_("Sorry, I did not understand the age. Please write a number, for example 2 years or 18 months.")
ASK_PLACE_PROMISED = N_("Has a Kita or a childminder already promised you a place?")
CHECK_STOPPED = N_("OK, I stopped the check. You can ask me anything else.")

# --- transport: the service itself and the messengers ----------------------------------------------------------
LIMITED_SERVICE = N_("The conversation service is limited right now. I can still search the information for you.")
TRY_AGAIN = N_("Sorry, I cannot answer right now. Please try again in a few minutes.")
RATE_LIMITED = N_("You are sending messages very quickly. Please wait a minute, then write again.")
TEXT_ONLY = N_("I can only read text messages. Please write your question in a few words.")
PLEASE_CHOOSE = N_("Please choose:")  # above buttons when the text they belong to was sent separately
CHOOSE = N_("Choose")  # the button that opens a WhatsApp list
BUTTON_EXPIRED = N_("This button is no longer active. Please write your question.")

# --- the web widget's own labels (GET /api/v1/texts) -----------------------------------------------------------
WIDGET = {
    "title": N_("Ask Lotse"),
    "open": N_("Open chat"),
    "close": N_("Close chat"),
    "placeholder": N_("Your question…"),  # short: it must fit a 320 px screen in every language
    "send": N_("Send"),
    "language": N_("Language"),
    "read_aloud": N_("Read aloud"),
    "stop_reading": N_("Stop reading"),
    "sources": N_("Sources"),
    "checked": CHECKED_ON,
    "typing": N_("Lotse is writing…"),
    "error": N_("Sorry, something went wrong. Please try again."),
    "rate_limited": N_("Too many messages. Please wait a moment."),
    "example_data": N_("Example data"),
    "privacy": N_("Please do not write your name, address or other personal data."),
    "new_conversation": N_("New conversation"),
    "disclaimer": N_("Lotse gives general information from official sources. It is not legal advice."),
    "you": N_("You"),
    "bot": N_("Lotse"),
    "degraded": N_("Some functions are limited right now."),
}


def widget_texts(locale: str) -> dict[str, str]:
    return {key: say(locale, text) for key, text in WIDGET.items()}


# --- texts built from data -------------------------------------------------------------------------------------


def checked_on(day: date, locale: str) -> str:
    """ "Checked on 22 November 2026" in the user's language, the date in the locale's own long format."""
    from babel.dates import format_date

    return say(locale, CHECKED_ON, date=format_date(day, format="long", locale=locale))


def entry_text(entry: Entry, locale: str, fallback: bool) -> str:
    """Title and body, with the notes on their language (``with_language_notes``)."""
    return with_language_notes(f"**{entry.title}**\n\n{entry.body}", entry, locale, fallback)


def with_language_notes(text: str, entry: Entry, locale: str, fallback: bool) -> str:
    """An entry's ``text``: when the entry is not in the user's language, say so first; when it is a machine
    translation, say so last."""
    if fallback:
        notice = NOT_IN_YOUR_LANGUAGE_ENGLISH if entry.locale == "en" else NOT_IN_YOUR_LANGUAGE_GERMAN
        text = f"{say(locale, notice)}\n\n{text}"
    if entry.translation == "machine":
        text += "\n\n_" + say(locale, MACHINE_TRANSLATED) + "_"
    return text


def contacts(tenant: Tenant | None, locale: str) -> str:
    """The tenant's counselling contacts in the user's language, or where to find counselling nationwide."""
    if tenant is None or not tenant.contacts:
        return say(locale, COUNSELLING_NATIONWIDE)
    lines = [say(locale, TALK_TO_A_PERSON_HERE), ""]
    for contact in tenant.contacts:
        lines.append(f"**{pick(contact.name, locale)}**")
        if contact.phone:
            lines.append(f"☎ {contact.phone}")
        if contact.email:
            lines.append(f"✉ {contact.email}")
        if contact.hours:
            lines.append(say(locale, OPENING_HOURS, hours=pick(contact.hours, locale)))
        if contact.address:
            lines.append(f"⌂ {contact.address}")
        if contact.languages:
            names = ", ".join(locales.info(c).name if locales.is_supported(c) else c for c in contact.languages)
            lines.append(say(locale, LANGUAGES, languages=names))
        if contact.url:
            lines.append(contact.url)
        lines.append("")
    if tenant.example:
        lines.append("_" + say(locale, EXAMPLE_CONTACTS) + "_")
    return "\n".join(lines).strip()


def opening_hours(tenant: Tenant | None, locale: str) -> str:
    """The opening hours of the tenant's counselling contacts; all contact details when none are given."""
    hours = [(pick(c.name, locale), pick(c.hours, locale)) for c in (tenant.contacts if tenant else []) if c.hours]
    if not hours:
        return contacts(tenant, locale)
    return "\n\n".join(f"**{name}**\n{say(locale, OPENING_HOURS, hours=text)}" for name, text in hours)


def no_answer_with_contacts(tenant: Tenant | None, locale: str) -> str:
    """The honest "no checked answer" followed by where a person can help."""
    return say(locale, NO_ANSWER) + "\n\n" + contacts(tenant, locale)


# The public surface: ``say``, the texts built from data and every message id (the upper-case names).
__all__ = [
    "checked_on",
    "contacts",
    "entry_text",
    "no_answer_with_contacts",
    "opening_hours",
    "say",
    "widget_texts",
    "with_language_notes",
] + sorted(name for name in dict(globals()) if name.isupper())
