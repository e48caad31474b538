"""German: how drafts are worded, and what German-speaking clients, leads and humans write.

Drafts address the lead as `Sie`, and sign off without a comma (`Viele Grüße`). Prices are written
`1.200,00 €` or `1.200 €`, meeting times `Donnerstag den 12. November um 10:00 Uhr`. A service is
a feminine noun without its article, so that templates can decline it (`bei einer {service}`).
"""

from __future__ import annotations

import re

from replay.devtools.locales import Business, Locale
from replay.devtools.phrases import Line, Window, Wording, rules

_SIGNOFFS = ("Viele Grüße", "Beste Grüße", "Danke und viele Grüße", "Mit freundlichen Grüßen")
_SIGNOFF_EDITS = ("Herzliche Grüße", "Bis bald", "Vielen Dank")

WORDING = Wording(
    language="de",
    name="German",
    greetings=("Hallo {n},", "Guten Tag {n},", "Hallo {n}!"),
    greetings_no_name=("Hallo,", "Guten Tag,", "Hallo zusammen,"),
    greetings_opt_out=("Hallo {n},", "Guten Tag {n},", "{n},"),
    signoffs=_SIGNOFFS,
    bodies={
        "pricing": (
            Line(("Danke für Ihre Frage zu den Preisen.", "Gern nenne ich Ihnen unsere Preise.",
                  "Gute Frage zu den Kosten."), required=False),
            Line(("Für „{item}“ berechnen wir {price}.", "{item}: {price}.",
                  "„{item}“ liegt bei {price}."), movable=True, needs="quotes"),
            Line(("Wenn Sie so weit sind, können Sie hier einen Termin wählen: {link}",
                  "Wenn Sie loslegen möchten, buchen Sie hier einen Termin: {link}"),
                 required=False, movable=True, needs="link"),
            Line(("Passt das zu Ihren Vorstellungen?",
                  "Soll ich Ihnen ein ausführliches Angebot erstellen?"), required=False),
        ),
        "meeting": (
            Line(("Gern finden wir einen Termin.", "Sehr gern, lassen Sie uns etwas ausmachen.",
                  "Dann tragen wir gleich etwas in den Kalender ein."), required=False),
            Line(("Würde Ihnen {times} passen?", "Ich hätte {times} frei, passt Ihnen einer davon?",
                  "Wie wäre es {times}?"), movable=True),
            Line(("Sie können auch direkt hier einen freien Termin wählen: {link}",
                  "Jeder freie Termin in meinem Kalender passt ebenfalls: {link}"),
                 movable=True, needs="link"),
            Line(("Telefonisch erreichen Sie mich unter {phone}.",),
                 required=False, needs="phone"),
        ),
        "confirm": (
            Line(("Perfekt, dann halten wir {slot} fest.",
                  "Sehr gut, ich habe {slot} für Sie eingetragen.",
                  "Prima, es bleibt bei {slot}.")),
            Line(("Die Einladung schicke ich Ihnen gleich.",
                  "Eine Kalendereinladung ist unterwegs."), required=False),
            Line(("Falls Sie verschieben müssen, wählen Sie hier einen anderen Termin: {link}",),
                 required=False, needs="link"),
        ),
        "information": (
            Line(("Gern erzähle ich Ihnen mehr.", "Gute Frage."), required=False),
            Line(("{service}", "Kurz gesagt: {service}"), movable=True, needs="service"),
            Line(("Für „{item}“ berechnen wir {price}.", "„{item}“ kostet {price}."),
                 required=False, movable=True, needs="quote"),
            Line(("Wenn es einfacher ist, buchen Sie hier einen Termin und wir gehen es gemeinsam "
                  "durch: {link}", "Hier können Sie eine kurze Vorstellung buchen: {link}"),
                 required=False, needs="link"),
            Line(("Sie erreichen mich auch telefonisch unter {phone}.",),
                 required=False, needs="phone"),
            Line(("Bei weiteren Fragen bin ich gern für Sie da.",),
                 required=False, needs="no_link"),
        ),
        "objection": (
            Line(("Absolut verständlich, danke für Ihre Offenheit.", "Das verstehe ich gut.",
                  "Das ergibt Sinn.")),
            Line(("Falls es hilft: „{item}“ kostet {price}, ohne lange Vertragsbindung.",),
                 required=False, movable=True, needs="quote"),
            Line(("Wenn sich etwas ändert, helfe ich gern weiter.",
                  "Die Tür bleibt offen, ganz ohne Druck."), movable=True),
            Line(("Hier ist mein Kalender, falls Sie einmal kurz sprechen möchten: {link}",),
                 required=False, needs="link"),
        ),
        "opt_out": (
            Line(("Verstanden, entschuldigen Sie die Störung.",
                  "In Ordnung, bitte entschuldigen Sie die Unterbrechung."), movable=True),
            Line(("Ich habe Sie aus unserem Verteiler entfernt, Sie hören nicht mehr von uns.",
                  "Sie stehen nicht mehr auf unserer Liste und erhalten keine weiteren Nachrichten "
                  "von uns."), movable=True),
            Line(("Alles Gute für Sie.", "Machen Sie es gut."), required=False),
        ),
        "out_of_office": (
            Line(("Danke für den Hinweis.", "Danke, dass Sie Bescheid geben."), movable=True),
            Line(("Ich melde mich wieder, wenn Sie zurück sind.",
                  "Nach Ihrer Rückkehr komme ich gern auf Sie zu."), movable=True),
            Line(("Ganz ohne Eile.",), required=False),
        ),
        "other": (
            Line(("Danke für Ihre Rückmeldung.", "Vielen Dank für die Antwort."), movable=True),
            Line(("Sagen Sie gern Bescheid, wenn ich helfen kann.",
                  "Ich bin jederzeit für Sie da."), movable=True),
            Line(("Falls ein kurzes Gespräch hilft, buchen Sie hier einen Termin: {link}",),
                 required=False, needs="link"),
        ),
    },
    no_prices="Ich stelle Ihnen die genauen Zahlen umgehend zusammen.",
    bare_price="Die Preise beginnen bei {price}.",
    intent_rules=rules((
        ("opt_out", r"^\W*(?:stopp?|abmelden)\W*$|\b(?:abmelden|abbestellen|austragen"
                    r"|tragen sie mich\b.{0,30}\baus\b|aus (?:ihrem|dem) verteiler"
                    r"|keine (?:weiteren )?(?:nachrichten|e-?mails|mails|anrufe|sms) mehr"
                    r"|schreiben sie mir nicht mehr|nicht mehr (?:kontaktieren|anschreiben"
                    r"|anrufen|schreiben)|kontaktieren sie mich (?:bitte )?nicht mehr"
                    r"|löschen sie meine daten)"),
        ("out_of_office", r"\b(?:abwesenheitsnotiz|automatische antwort|nicht im büro"
                          r"|außer haus|im urlaub|derzeit abwesend|eingeschränkte[nm]? zugriff)"),
        ("objection", r"\b(?:zu teuer|arbeiten (?:bereits|schon) mit|sind (?:damit )?zufrieden"
                      r"|keine priorität|schlechter zeitpunkt|nicht der richtige zeitpunkt"
                      r"|unterschrieben|kein budget|glaube nicht, dass wir"
                      r"|brauchen wir (?:derzeit |aktuell )?nicht|kein interesse)"),
        ("pricing", r"\b(?:was kostet|kosten|kostet|preis\w*|tarif\w*|gebühr\w*"
                    r"|berechnen sie)\b|€|\d\s?euro\b"),
        ("meeting", r"\b(?:termin\w*|telefonieren|telefonat|anruf|anrufen|gespräch|treffen"
                    r"|besprechen|vorbeikommen|vorbeischauen|besichtigung|demo|passt mir"
                    r"|passt uns|zeit|welche zeiten|kalender)\b|\bum \d{1,2}(?::\d\d)? uhr\b"),
        ("information", r"\?|\b(?:mehr (?:infos?|informationen|details)|wie funktioniert"
                        r"|abläuft|wie lange|enthalten|arbeiten sie auch|unterlagen)"),
    )),
    days=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
            "Oktober", "November", "Dezember"),
    hours=("9", "10", "11:30", "13", "14", "15:30", "16"),
    slot_forms={
        "offer": "{weekday} den {day}. {month} um {hm} Uhr",
        "pick": "{weekday} um {hx} Uhr",
        "short": "am {weekday} um {hx} Uhr",
        "long": "am {weekday}, den {day}. {month}, um {hm} Uhr",
        "propose": "am {weekday} um {hm} Uhr",
        "default": "am {weekday} um {hour} Uhr",
    },
    window_form=("{a} bis {b} {start} bis {end} Uhr", "{a} {start} bis {end} Uhr"),
    connector="um",
    or_word="oder",
    common_words=frozenset(
        "der die das und ist nicht ich sie wir mit für ein eine einen einem den dem zu bitte "
        "danke hallo uns ihr ihnen ihrem ihre wie gerne gern mehr keine kein auch noch kann "
        "können haben habe wäre würde diese dieser woche im bei zum zur mir mich dass nur bis "
        "gibt sind schon gerade ehrlich gesagt".split()
    ),
    marks=re.compile(r"[ßäöü„]"),
    item_stopwords=frozenset({"paket", "monat", "jahr", "komplette", "installiert"}),
    no_comma=frozenset(_SIGNOFFS + _SIGNOFF_EDITS),
)  # fmt: skip

LOCALE = Locale(
    language="de",
    businesses=(
        Business(
            "Dachtechnik Krüger", "dachtechnik-krueger", "Dachsanierung",
            "Dachreparaturen, Neueindeckungen und Inspektionen für Wohnhäuser und Gewerbe im "
            "Großraum Hamburg.",
            "Jörg, ein freundlicher Dachdeckermeister ohne Verkaufsdruck",
            "Jörg Krüger, Dachtechnik Krüger GmbH",
            (("Dachinspektion", 290), ("Ziegelreparatur (pro m²)", 85), ("Dachrinnenschutz", 1200),
             ("Komplette Neueindeckung (Einfamilienhaus)", 24500)),
            price_style="eur_dot_cents", phone="+49 40 2312567", hours=(Window(0, 4, 7, 16),),
        ),
        Business(
            "Zahnarztpraxis Dr. Weiß", "praxis-dr-weiss", "Zahnreinigung",
            "Allgemeine und ästhetische Zahnmedizin für die ganze Familie, mit kurzfristigen "
            "Terminen und Ratenzahlung.",
            "Nadine, die herzliche Praxismanagerin", "Nadine Böhm, Zahnarztpraxis Dr. Weiß",
            (("Professionelle Zahnreinigung", 95), ("Bleaching", 390), ("Keramikkrone", 850),
             ("Kontrolluntersuchung", 45)),
            price_style="eur_dot", phone="+49 30 23125456",
            hours=(Window(0, 3, 8, 18), Window(4, 4, 8, 13)),
        ),
        Business(
            "Belegwerk", "belegwerk", "Einrichtung von Belegwerk",
            "Belegwerk ist Buchhaltungssoftware für Agenturen und Freiberufler: Rechnungen, Belege "
            "und Lohnabrechnung an einem Ort.",
            "Tobias, ein hilfsbereiter Account Manager, der sich kurz fasst",
            "Tobias Schäfer, Belegwerk",
            (("Starter-Paket (pro Monat)", 29), ("Team-Paket (pro Monat)", 89),
             ("Einrichtungspaket", 690), ("Enterprise-Lizenz (pro Jahr)", 9800)),
            price_style="eur_dot", phone="+49 89 2183456", hours=(Window(0, 4, 9, 17),),
        ),
        Business(
            "Sonnenwerk Solar", "sonnenwerk-solar", "Solarinstallation",
            "Photovoltaik und Batteriespeicher für Einfamilienhäuser, inklusive Förderantrag und "
            "Anmeldung beim Netzbetreiber.",
            "Katrin, eine geduldige Energieberaterin", "Katrin Schröder, Sonnenwerk Solar",
            (("Vor-Ort-Analyse", 190), ("PV-Anlage 8 kWp (installiert)", 14900),
             ("Batteriespeicher", 7400), ("Modulreinigung", 160)),
            price_style="eur_dot_cents", phone="0171 2345678",
            hours=(Window(0, 4, 8, 17), Window(5, 5, 9, 12)),
        ),
    ),
    first_names=(
        "Jürgen", "Jörg", "Sören", "Björn", "Günther", "Ulrike", "Käthe", "Bärbel", "Hans-Peter",
        "Anneliese", "Matthias", "Stefanie", "Katharina", "Maximilian", "Özlem", "Mehmet",
        "Dörte", "Łukasz", "Søren", "Françoise", "José", "Zoë",
    ),
    last_names=(
        "Müller", "Schröder", "Weiß", "Groß", "Jäger", "Köhler", "Krämer", "Hoffmann", "Wagner",
        "Becker", "Schulz", "Bauer", "Fuchs", "Nowak", "Yılmaz", "Kowalczyk", "Große-Brömer",
        "Öztürk", "Løvik",
    ),
    companies=(
        "Bäckerei Sommer & Söhne", "Müller Logistik GmbH", "Autohaus Köhler",
        "Tierarztpraxis Am Fluss", "Brauhaus Grünwald", "Druckerei Zenit",
        "Architekturbüro Stein & Zeder", "Gärtnerei Jäger", "Optik Lumen", "Café Hauptstraße",
        "Weinhandel Rebstock", "Yogastudio Weide", "Schreinerei Öztürk",
        "Kanzlei Brandt & Partner",
    ),
    cities=("Hamburg", "München", "Köln", "Düsseldorf", "Nürnberg", "Leipzig", "Dresden",
            "Münster", "Lübeck", "Würzburg"),
    timezones=("Europe/Berlin", "Europe/Berlin", "Europe/Vienna", "Europe/Zurich"),
    weekdays=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"),
    inbound={
        "pricing": (
            "Was kostet bei Ihnen „{item}“?",
            "Was berechnen Sie für „{item}“?",
            "Können Sie mir die Preise für „{item}“ schicken?",
            "Was würde „{item}“ für {company} kosten?",
            "Gibt es eine Preisliste? Mich interessiert vor allem „{item}“.",
            "Bevor wir weitermachen: Mit welchen Kosten müssen wir ungefähr rechnen?",
            "Haben Sie Preise für „{item}“? Wir planen gerade das nächste Quartal.",
        ),
        "meeting": (
            "Können wir diese Woche telefonieren?",
            "Ich würde das gern besprechen. Haben Sie am {day} nachmittags Zeit?",
            "Wäre ein kurzes Telefonat am {day} möglich?",
            "Gern können wir uns treffen. Welche Zeiten passen Ihnen nächste Woche?",
            "Lassen Sie uns einen Termin ausmachen, ich habe am {day} vormittags Zeit.",
            "Könnte jemand von Ihrem Team am {day} zur Besichtigung vorbeikommen?",
        ),
        "information": (
            "Können Sie mir mehr darüber erzählen, wie eine {service} abläuft?",
            "Arbeiten Sie auch mit Firmen wie {company}?",
            "Was ist in „{item}“ enthalten?",
            "Könnten Sie mir weitere Unterlagen schicken? Ich vergleiche gerade mehrere Anbieter.",
            "Wie lange dauert eine {service} normalerweise?",
            "Sind Sie auch in unserer Gegend tätig? Wir sitzen in {city}.",
        ),
        "objection": (
            "Ehrlich gesagt ist uns das im Moment zu teuer.",
            "Wir arbeiten bereits mit einem anderen Anbieter und sind zufrieden.",
            "Das hat für uns in diesem Quartal keine Priorität.",
            "Schlechter Zeitpunkt, wir haben gerade bei einem anderen Anbieter unterschrieben.",
            "Ich glaube nicht, dass wir das derzeit brauchen.",
        ),
        "opt_out": (
            "Bitte keine Nachrichten mehr.",
            "Abmelden",
            "Bitte nehmen Sie mich aus Ihrem Verteiler.",
            "STOPP",
            "Kein Interesse. Bitte schreiben Sie mir nicht mehr.",
            "Bitte tragen Sie mich aus Ihrer Liste aus, danke.",
            "Kontaktieren Sie mich bitte nicht mehr.",
        ),
        "out_of_office": (
            "Ich bin bis {day} nicht im Büro und habe nur eingeschränkten Zugriff auf meine "
            "E-Mails. Ich melde mich nach meiner Rückkehr.",
            "Automatische Antwort: Ich bin derzeit abwesend und ab {day} wieder erreichbar.",
            "Vielen Dank für Ihre Nachricht. Ich bin bis nächste Woche im Urlaub; in dringenden "
            "Fällen wenden Sie sich bitte an meine Kollegin am Empfang.",
        ),
        "other": (
            "Danke, ist angekommen.",
            "Klingt gut, ich gebe das an meinen Geschäftspartner weiter.",
            "Erhalten, ich schaue es mir an.",
            "Danke! Ich melde mich, sobald ich mit dem Team gesprochen habe.",
            "Ok, notiert.",
        ),
    },
    stop_by="Könnte ich am {day} kurz in Ihrem Büro vorbeikommen, um alles persönlich zu "
    "besprechen?",
    markup=(
        "Unser Kontaktformular zeigt nach dem Absenden <script>alert(1)</script> an, und der "
        'Vorschau-Link "><img src=x onerror=alert(1)> funktioniert auch nicht. Was würde '
        "„{item}“ kosten?"
    ),
    inbound_email=(
        "Hallo {agent},\n\n{core}\n\nDanke und viele Grüße\n{first}",
        "Guten Tag,\n\n{core}\n\n{first}",
        "{core}\n\nMit freundlichen Grüßen\n{first} {last}\n{company}",
    ),
    linkedin="Hallo {agent}, {core}",
    subjects=("Anfrage", "Ihre Nachricht", "Kurze Frage", "Nachfrage", "Anfrage über die Website"),
    thread_subject="{service} für {company}",
    openers=(
        "Hallo {first}, ich bin {agent} von {business}. Wir unterstützen Teams wie {company} bei "
        "einer {service}. Soll ich Ihnen ein paar Details schicken?",
        "Hallo {first}, ich habe gesehen, dass {company} in {city} wächst. {business} hat "
        "ähnlichen Teams bei einer {service} geholfen. Gern erzähle ich Ihnen mehr.",
        "Guten Tag {first}, hier ist {agent} von {business}. Ich melde mich, falls bei Ihnen in "
        "dieser Saison eine {service} ansteht.",
    ),
    follow_ups=(
        "Hallo {first}, ich wollte kurz nachhaken, ob meine letzte Nachricht angekommen ist. "
        "{signature}",
        "Hallo {first}, ich melde mich noch einmal, falls meine Nachricht untergegangen ist. "
        "{signature}",
        "Hallo {first}, ich schließe das Thema vorerst ab. {signature}",
    ),
    opt_out_confirmation="Sie wurden abgemeldet und erhalten keine weiteren Nachrichten.",
    human_replies=(
        "Hallo {first}, hier ist {agent}. Ich kläre das mit dem Team und melde mich morgen bei "
        "Ihnen.",
        "Danke, {first}! Am Telefon ist das leichter zu erklären, ich rufe Sie heute Nachmittag "
        "an. {agent}",
        "{first}, danke für Ihre Nachricht. Ich habe sie an unsere Büroleitung weitergegeben, die "
        "sich heute noch meldet. {agent}",
        "Hallo {first}, gute Frage. Ich schicke Ihnen später eine ausführliche Antwort. {agent}",
    ),
    opt_out_human_reply="Erledigt, {first}. Sie sind abgemeldet. {agent}",
    greeting_edits=("{n},", "Guten Morgen {n},", "Hallo {n}!", "Hi {n},"),
    added_sentences=(
        "Ich bin die ganze Woche erreichbar, falls ein Anruf einfacher ist.",
        "Wir haben gerade ein Projekt in Ihrer Nähe abgeschlossen.",
        "Nochmals danke für Ihre Geduld.",
        "Sagen Sie gern Bescheid, wenn etwas unklar ist.",
        "Gern schicke ich Ihnen ein paar Referenzen.",
    ),
    signoff_edits=_SIGNOFF_EDITS,
    persona="{persona} bei {business}",
    item_case="keep",
    phones=("+49 30 ########", "+49 40 #######", "0171 #######", "+49 151 ########"),
    slot_offers=(
        "Hallo {first}, für ein Gespräch könnte ich Ihnen {slots} anbieten. Was passt Ihnen am "
        "besten? {agent}",
        "Hallo {first}, ich hätte folgende Termine frei: {slots}. Sagen Sie mir einfach, welcher "
        "Ihnen passt. {agent}",
    ),
    slot_picks=(
        "{Slot} passt mir gut.",
        "Gern am {slot}.",
        "Dann nehme ich {slot}, wenn das noch frei ist.",
    ),
)  # fmt: skip
