"""Text the fixture generator draws from: businesses, people, and what leads and humans write.

Every inbound template is written so that `drafting.detect_intent` reads the intent it is filed
under (a test holds the two together), and no company, item or city name carries a word that
would tip a template into another intent. Emails, phones and links use reserved example ranges.
This module is the English text, gathered in `ENGLISH`; the Spanish, German and French ones
live in their own modules.
"""

from __future__ import annotations

from collections.abc import Mapping

from replay.devtools.locales import Business, Locale

BUSINESSES: tuple[Business, ...] = (
    Business(
        "BrightPeak Roofing",
        "brightpeak-roofing",
        "a roof replacement",
        "Residential and commercial roof repair, replacement and inspections across the Denver "
        "metro area.",
        "Dana, a friendly, no-pressure estimator",
        "Dana Reyes, BrightPeak Roofing",
        (
            ("Roof inspection", 450),
            ("Shingle repair (per square)", 380),
            ("Gutter guard install", 1200),
            ("Full roof replacement (average home)", 12500),
        ),
    ),
    Business(
        "Lakeside Family Dental",
        "lakeside-dental",
        "a new patient appointment",
        "General and cosmetic dentistry for families, with same-week appointments and most "
        "insurance accepted.",
        "Priya, the warm and organised front desk coordinator",
        "Priya Shah, Lakeside Family Dental",
        (
            ("New patient exam and cleaning", 189),
            ("Teeth whitening", 450),
            ("Porcelain crown", 1200),
            ("Emergency appointment", 150),
        ),
    ),
    Business(
        "Ledgerly",
        "ledgerly",
        "the Ledgerly onboarding",
        "Ledgerly is accounting software for small agencies: invoicing, expenses and payroll in "
        "one place.",
        "Sam, a helpful account executive who keeps things short",
        "Sam Patel, Ledgerly",
        (
            ("Starter plan (per month)", 49),
            ("Team plan (per month)", 149),
            ("Onboarding package", 600),
            ("Enterprise license (per year)", 9800),
        ),
    ),
    Business(
        "SunHarbor Solar",
        "sunharbor-solar",
        "a solar installation",
        "Solar panel and battery installation for homes, with financing and permits handled for "
        "you.",
        "Leo, a patient solar advisor",
        "Leo Martins, SunHarbor Solar",
        (
            ("Site assessment", 250),
            ("6 kW system installed", 15900),
            ("Home battery add-on", 8400),
            ("Panel cleaning", 180),
        ),
    ),
    Business(
        "Whitford & Lane",
        "whitford-lane",
        "an LLC formation",
        "Business law firm handling contracts, company formation and employment matters for small "
        "companies.",
        "Grace, a precise and courteous paralegal",
        "Grace Whitford, Whitford & Lane LLP",
        (
            ("Initial consultation", 250),
            ("LLC formation package", 1500),
            ("Contract review", 750),
            ("Attorney time (per hour)", 340),
        ),
    ),
    Business(
        "Cobalt Fitness Studio",
        "cobalt-fitness",
        "small-group training",
        "Boutique gym with small-group training, personal coaching and nutrition plans.",
        "Mia, an upbeat head coach",
        "Mia Torres, Cobalt Fitness Studio",
        (
            ("Monthly membership", 129),
            ("Personal training pack (10 sessions)", 650),
            ("Nutrition plan", 199),
        ),
    ),
    Business(
        "Greenline Landscaping",
        "greenline-landscaping",
        "a spring cleanup",
        "Lawn care, garden design and seasonal cleanups for homes and offices.",
        "Owen, a down-to-earth crew lead",
        "Owen Burke, Greenline Landscaping",
        (
            ("Weekly mowing (per month)", 160),
            ("Spring cleanup", 380),
            ("Garden design package", 220),
            ("Irrigation install", 2400),
        ),
    ),
    Business(
        "Pinecrest Heating & Air",
        "pinecrest-hvac",
        "a furnace tune-up",
        "Heating and cooling installation, repair and yearly maintenance plans.",
        "Nora, a straightforward service advisor",
        "Nora Lindqvist, Pinecrest Heating & Air",
        (
            ("Furnace tune-up", 129),
            ("AC install (3-ton)", 6800),
            ("Maintenance plan (per year)", 240),
            ("Diagnostic trip", 89),
        ),
    ),
    Business(
        "Northstar IT",
        "northstar-it",
        "managed IT support",
        "Managed IT support for offices of 5 to 100 people: helpdesk, security and backups.",
        "Raj, a calm solutions engineer",
        "Raj Mehta, Northstar IT",
        (
            ("Managed support (per user, per month)", 95),
            ("Security audit", 1800),
            ("Office onboarding", 1200),
        ),
    ),
    Business(
        "Brightside Movers",
        "brightside-movers",
        "a local move",
        "Local and long-distance moving with packing, storage and careful handling of fragile "
        "items.",
        "Ben, a reassuring move coordinator",
        "Ben Okafor, Brightside Movers",
        (
            ("Local move (2 movers, per hour)", 140),
            ("Full packing service", 450),
            ("Storage unit (per month)", 120),
        ),
    ),
    Business(
        "Clearview Window Care",
        "clearview-windows",
        "exterior window cleaning",
        "Window, gutter and pressure cleaning for homes and storefronts.",
        "Ava, a cheerful scheduler",
        "Ava Nguyen, Clearview Window Care",
        (
            ("Residential exterior windows", 220),
            ("Storefront windows (monthly)", 180),
            ("Gutter cleaning", 160),
        ),
    ),
    Business(
        "Harbor Point Marketing",
        "harbor-point-marketing",
        "an SEO audit",
        "Search engine optimisation, paid ads and website redesigns for local businesses.",
        "Chloe, a sharp and friendly strategist",
        "Chloe Dubois, Harbor Point Marketing",
        (
            ("SEO audit", 900),
            ("Monthly SEO retainer", 2500),
            ("Website redesign", 7800),
        ),
    ),
)

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "James", "Aisha", "Tom", "Elena", "Marcus", "Hannah", "Diego", "Sofia", "Kevin",
    "Yuki", "Olivia", "Ahmed", "Grace", "Lucas", "Fatima", "Ethan", "Chloe", "Noah", "Isabel",
    "Daniel", "Amara", "Ryan", "Mei", "Jonah", "Laura", "Victor", "Zoe", "Samuel", "Nadia",
    "Peter", "Rosa", "Oscar", "Lena", "Tariq", "Emma", "Hugo", "Ines", "Caleb", "Anika",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Lopez", "Smith", "Khan", "Nguyen", "Rossi", "Johnson", "Muller", "Garcia", "Kim", "Brown",
    "Tanaka", "Walker", "Hassan", "Silva", "Cohen", "Novak", "Murphy", "Ortiz", "Larsen", "Adams",
    "Ibrahim", "Fischer", "Costa", "Park", "Reid", "Moreau", "Kowalski", "Bianchi", "Evans",
    "Haddad",
)  # fmt: skip

COMPANIES: tuple[str, ...] = (
    "Acme Logistics", "Bluebird Bakery", "Cedar & Stone Architects", "Delta Freight",
    "Evergreen Clinic", "Foxglove Studio", "Granite Ridge Homes", "Hollow Creek Farms",
    "Ironwood Labs", "Juniper Events", "Kestrel Aviation", "Lumen Optics", "Maple Street Cafe",
    "Nimbus Analytics", "Orchard Lane Realty", "Pioneer Auto Body", "Quartz Jewelry",
    "Riverside Vet", "Silverline Salon", "Tidewater Marine", "Upland Brewing", "Vista Dental Lab",
    "Willow Yoga", "Yellowstone Outfitters", "Zenith Print Shop",
)  # fmt: skip

CITIES: tuple[str, ...] = (
    "Denver", "Austin", "Portland", "Raleigh", "Madison", "Tucson", "Boise", "Richmond",
    "Omaha", "Spokane",
)  # fmt: skip

TIMEZONES: tuple[str, ...] = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Phoenix", "Europe/London", "Europe/Berlin",
)  # fmt: skip

AREA_CODES: tuple[str, ...] = ("303", "512", "503", "919", "608", "520", "208", "804")

WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

INBOUND: Mapping[str, tuple[str, ...]] = {
    "pricing": (
        "How much is {item}?",
        "What do you charge for {item}?",
        "Can you send me pricing for {item}?",
        "What would {item} cost for {company}?",
        "Is there a price list? Mostly interested in {item}.",
        "Before we go further, what's the ballpark cost?",
        "Do you have rates for {item}? Trying to plan next quarter.",
    ),
    "meeting": (
        "Can we set up a call this week?",
        "I'd like to talk it over. Are you free {day} afternoon?",
        "Could you do a quick call on {day}?",
        "Happy to meet. What times work for you next week?",
        "Let's schedule something, I'm open {day} morning.",
        "Could your team come out for a walkthrough on {day}?",
    ),
    "information": (
        "Can you tell me more about how {service} works?",
        "Do you work with companies like {company}?",
        "What's included in {item}?",
        "Could you send more details? I'm comparing a few options.",
        "How long does {service} usually take?",
        "Do you cover our area? We're in {city}.",
    ),
    "objection": (
        "Honestly this seems too expensive for us right now.",
        "We already work with another provider and we're happy with them.",
        "Not sure this is a priority for us this quarter.",
        "Bad timing, we just signed with someone else.",
        "I don't think we need this at the moment.",
    ),
    "opt_out": (
        "Please stop texting me.",
        "Unsubscribe",
        "Remove me from your list.",
        "STOP",
        "Not interested. Please stop emailing me.",
        "Take me off your mailing list, thanks.",
        "Do not contact me again.",
    ),
    "out_of_office": (
        "I'm out of the office until {day} with limited access to email. I'll reply when I'm back.",
        "Automatic reply: I am currently away and will return on {day}.",
        "Thanks for your message. I'm on leave until next week; for anything pressing, reach my "
        "colleague at the front desk.",
    ),
    "other": (
        "Thanks, got it.",
        "Sounds good, I'll pass this to my partner.",
        "Received, will take a look.",
        "Thanks! Will circle back after I talk to the team.",
        "Ok, noted.",
    ),
}

"""Inbound message templates by `drafting.Intent`.

Placeholders: {item} (a price list item, lower case), {service}, {company}, {day}, {city}.
"""

STOP_BY_OFFICE = "Could I stop by your office on {day} to talk it through in person?"
"""A meeting request that says "stop" and is not an opt-out."""

MARKUP_INBOUND = (
    "Our contact form shows <script>alert(1)</script> after we submit, and the preview link "
    '"><img src=x onerror=alert(1)> is broken too. What would it cost to get {item} sorted?'
)
"""An inbound body that any HTML rendering must escape."""

ENORMOUS_LINE = (
    "> [forwarded attachment, inlined by the mail gateway] " + "QUJDREVGR0hJSktMTU5P" * 4
)
"""One line of the quoted junk that makes a body enormous."""

INBOUND_EMAIL = (
    "Hi {agent},\n\n{core}\n\nThanks,\n{first}",
    "Hello,\n\n{core}\n\n{first}",
    "{core}\n\nBest,\n{first} {last}\n{company}",
)

SUBJECTS: tuple[str, ...] = (
    "Question",
    "Your message",
    "Quick question",
    "Following up",
    "Enquiry from the website",
)

OPENERS: tuple[str, ...] = (
    "Hi {first}, I'm {agent} from {business}. We help teams like {company} with {service}. "
    "Would it be useful if I shared a few details?",
    "Hi {first}, saw {company} is growing in {city}. {business} has helped similar teams with "
    "{service}. Happy to share how, if useful.",
    "Hello {first}, {agent} here from {business}. Reaching out in case {service} is on your list "
    "this season.",
)

FOLLOW_UPS: tuple[str, ...] = (
    "Hi {first}, just checking in on my last note. {signature}",
    "Hi {first}, circling back in case this got buried. {signature}",
    "Hi {first}, I'll close the loop here for now. {signature}",
)

OPT_OUT_CONFIRMATION = "You have been unsubscribed and will not receive further messages."

HUMAN_REPLIES: tuple[str, ...] = (
    "Hi {first}, {agent} here. Let me check with the team and come back to you tomorrow.",
    "Thanks {first}! Easier to explain by phone, I'll ring you this afternoon. {agent}",
    "{first}, thanks for the note. I've passed this to our office manager, who'll follow up "
    "today. {agent}",
    "Hi {first}, good question. I'll send a proper write-up later today. {agent}",
)

OPT_OUT_HUMAN_REPLY = "Done, {first}. You're removed. {agent}"

# Edits humans make to a draft before sending it.
GREETING_EDITS: tuple[str, ...] = ("{n},", "Morning {n},", "Hi {n}!", "Hey {n}!")
ADDED_SENTENCES: tuple[str, ...] = (
    "I'm around all week if a call is easier.",
    "We also just finished a job near you.",
    "Thanks again for your patience.",
    "Let me know if anything is unclear.",
    "Happy to send a few references.",
)
SIGNOFF_EDITS: tuple[str, ...] = ("Cheers", "Talk soon", "Many thanks")

JOB_ERRORS: tuple[str, ...] = (
    "RateLimitError: 429 Too Many Requests",
    "TimeoutError: model call exceeded 30s",
    "ValueError: empty completion",
    "APIConnectionError: connection reset by peer",
    "InternalServerError: 502 Bad Gateway",
)


ENGLISH = Locale(
    language="en", businesses=BUSINESSES, first_names=FIRST_NAMES, last_names=LAST_NAMES,
    companies=COMPANIES, cities=CITIES, timezones=TIMEZONES, weekdays=WEEKDAYS, inbound=INBOUND,
    stop_by=STOP_BY_OFFICE, markup=MARKUP_INBOUND, inbound_email=INBOUND_EMAIL,
    linkedin="Hi {agent}, {core}", subjects=SUBJECTS, thread_subject="{service} for {company}",
    openers=OPENERS, follow_ups=FOLLOW_UPS, opt_out_confirmation=OPT_OUT_CONFIRMATION,
    human_replies=HUMAN_REPLIES, opt_out_human_reply=OPT_OUT_HUMAN_REPLY,
    greeting_edits=GREETING_EDITS, added_sentences=ADDED_SENTENCES, signoff_edits=SIGNOFF_EDITS,
    persona="{persona} at {business}", item_case="lower",
)  # fmt: skip
