"""French: how drafts are worded, and what French-speaking clients, leads and humans write.

Drafts address the lead as `vous` and avoid wording that depends on their gender. Prices are
written `1 200 €` or `1 200,00 €`, meeting times `jeudi 12 novembre à 14h`; price list items are
named as catalogue entries (`la prestation « Diagnostic de toiture »`), which needs no article.
"""

from __future__ import annotations

import re

from replay.devtools.locales import Business, Locale
from replay.devtools.phrases import Line, Window, Wording, rules

WORDING = Wording(
    language="fr",
    name="French",
    greetings=("Bonjour {n},", "Bonjour {n} !", "Merci pour votre message, {n}."),
    greetings_no_name=("Bonjour,", "Bonjour à vous,", "Merci pour votre message."),
    greetings_opt_out=("Bonjour {n},", "{n},"),
    signoffs=("Cordialement", "Bien à vous", "Merci", "Belle journée"),
    bodies={
        "pricing": (
            Line(("Merci pour votre question sur nos tarifs.", "Avec plaisir, voici nos tarifs.",
                  "Bonne question sur le coût."), required=False),
            Line(("La prestation « {item} » est à {price}.", "{item} : {price}.",
                  "Pour « {item} », comptez {price}."), movable=True, needs="quotes"),
            Line(("Quand vous le souhaitez, vous pouvez choisir un créneau ici : {link}",
                  "Si vous souhaitez aller plus loin, réservez un créneau ici : {link}"),
                 required=False, movable=True, needs="link"),
            Line(("Cela correspond-il à ce que vous aviez en tête ?",
                  "Voulez-vous que je vous prépare un devis détaillé ?"), required=False),
        ),
        "meeting": (
            Line(("Avec plaisir, trouvons un moment.", "Volontiers, fixons un créneau.",
                  "Organisons cela."), required=False),
            Line(("Seriez-vous disponible {times} ?",
                  "Je suis libre {times}, l'un de ces créneaux vous convient-il ?",
                  "Est-ce que {times} vous irait ?"), movable=True),
            Line(("Vous pouvez aussi choisir un créneau libre ici : {link}",
                  "Tous les créneaux libres de mon agenda sont ici : {link}"),
                 movable=True, needs="link"),
            Line(("Vous pouvez aussi m'appeler au {phone}.",), required=False, needs="phone"),
        ),
        "confirm": (
            Line(("Parfait, je vous confirme notre rendez-vous : {slot}.",
                  "C'est noté pour {slot}.", "Très bien, je bloque le créneau : {slot}.")),
            Line(("Je vous envoie l'invitation dans la foulée.",
                  "Une invitation arrive dans votre boîte."), required=False),
            Line(("Si vous devez le déplacer, choisissez un autre créneau ici : {link}",),
                 required=False, needs="link"),
        ),
        "information": (
            Line(("Avec plaisir, je vous en dis plus.", "Bonne question."), required=False),
            Line(("{service}", "En bref : {service}"), movable=True, needs="service"),
            Line(("La prestation « {item} » est à {price}.", "Pour « {item} », comptez {price}."),
                 required=False, movable=True, needs="quote"),
            Line(("Si c'est plus simple, réservez un moment pour en parler ensemble : {link}",
                  "Vous pouvez réserver une courte présentation ici : {link}"),
                 required=False, needs="link"),
            Line(("Vous pouvez aussi me joindre au {phone}.",), required=False, needs="phone"),
            Line(("Je reste à votre disposition pour toute autre question.",),
                 required=False, needs="no_link"),
        ),
        "objection": (
            Line(("C'est tout à fait compréhensible, merci pour votre franchise.",
                  "Je comprends parfaitement.", "C'est logique.")),
            Line(("Si cela peut aider, « {item} » est à {price}, sans engagement.",),
                 required=False, movable=True, needs="quote"),
            Line(("Si les choses évoluent, je serai là pour vous aider.",
                  "Ma porte reste ouverte, sans aucune pression."), movable=True),
            Line(("Voici mon agenda si vous souhaitez échanger un jour : {link}",),
                 required=False, needs="link"),
        ),
        "opt_out": (
            Line(("C'est entendu, toutes nos excuses pour le dérangement.",
                  "Bien compris, veuillez excuser l'interruption."), movable=True),
            Line(("Vos coordonnées ont été retirées de notre liste et vous ne recevrez plus de "
                  "messages de notre part.",
                  "Vous ne figurez plus sur notre liste et ne recevrez plus aucun message de notre "
                  "part."), movable=True),
            Line(("Je vous souhaite une excellente continuation.", "Bonne continuation."),
                 required=False),
        ),
        "out_of_office": (
            Line(("Merci pour l'information.", "Merci de me tenir au courant."), movable=True),
            Line(("Je reviendrai vers vous à votre retour.",
                  "Je vous recontacte après votre retour."), movable=True),
            Line(("Rien ne presse.",), required=False),
        ),
        "other": (
            Line(("Merci pour votre retour.", "Merci pour votre réponse."), movable=True),
            Line(("N'hésitez pas si je peux vous aider.", "Je reste disponible si besoin."),
                 movable=True),
            Line(("Si un court échange peut aider, réservez un créneau ici : {link}",),
                 required=False, needs="link"),
        ),
    },
    no_prices="Je vous prépare les chiffres exacts rapidement.",
    bare_price="Nos tarifs commencent à {price}.",
    intent_rules=rules((
        ("opt_out", r"^\W*(?:stop|d[ée]sabonner)\W*$|\b(?:d[ée]sabonner|d[ée]sinscri\w*"
                    r"|ne plus me (?:contacter|écrire|relancer|solliciter)"
                    r"|ne me (?:contactez|écrivez|relancez|sollicitez) plus"
                    r"|arr[êe]te[rz] de m['’](?:écrire|envoyer|appeler|contacter)"
                    r"|retirez-moi|supprimez-moi|ne plus recevoir)"),
        ("out_of_office", r"\b(?:absente? du bureau|réponse automatique|en congés?|en vacances"
                          r"|actuellement absente?|accès limité)"),
        ("objection", r"\b(?:trop cher|travaillons déjà|déjà un prestataire|satisfaits"
                      r"|pas une priorité|pas le bon moment|mauvais timing|mauvais moment"
                      r"|venons de signer|pas de budget|pas besoin|ayons besoin"
                      r"|pas intéressée?)"),
        ("pricing", r"\b(?:combien (?:co[uû]te|co[uû]tent|co[uû]terait|facturez|pour)|prix"
                    r"|tarifs?|tarification|devis|co[uû]t|grille tarifaire)\b|€|\d\s?euros?\b"),
        ("meeting", r"\b(?:appel|appeler|rendez-vous|rdv|rencontrer|réunion|disponible"
                    r"|passer (?:à|au|vous voir|pour)|démo|visite|créneaux?|me convient"
                    r"|m['’]arrange|libre|point rapide|par téléphone|va pour)\b|\bà \d{1,2}h"),
        ("information", r"\?|\b(?:plus d['’]informations|plus de détails"
                        r"|comment (?:se déroule|ça marche|cela fonctionne)|combien de temps"
                        r"|inclus|travaillez-vous|intervenez-vous|documentation)"),
    )),
    days=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
            "octobre", "novembre", "décembre"),
    hours=("9h", "10h", "11h30", "14h", "15h30", "16h"),
    slot_forms={
        "offer": "{weekday} {day} {month} à {hh}",
        "pick": "{weekday} à {hh}",
        "short": "{weekday} à {hhmm}",
        "long": "le {weekday} {day} {month}, à {hhmm}",
        "propose": "{weekday} à {hh}",
        "default": "{weekday} à {hour}",
    },
    window_form=("du {a} au {b} {start}h-{end}h", "le {a} {start}h-{end}h"),
    connector="à",
    or_word="ou",
    common_words=frozenset(
        "le les et est pas je vous nous avec pour un une des du qui merci bonjour ce cette "
        "votre vos notre mais dans au aux sur plus ne très peut pouvez suis sommes à où ça "
        "c'est d'accord quel quelle êtes avez moment".split()
    ),
    marks=re.compile(r"[çœ«»èêàâîôûù]|\s[?!;:](?:\s|$)"),
    item_stopwords=frozenset(
        {"mois", "complète", "maison", "individuelle", "traitement", "offre"}
    ),
    first_of_month="1er",
)  # fmt: skip

LOCALE = Locale(
    language="fr",
    businesses=(
        Business(
            "Toitures Mercier", "toitures-mercier", "une réfection de toiture",
            "Réparation, rénovation et entretien de toitures pour particuliers et professionnels "
            "dans toute la métropole lyonnaise.",
            "Hélène, une estimatrice aimable et sans pression commerciale",
            "Hélène Mercier, Toitures Mercier",
            (("Diagnostic de toiture", 180), ("Réparation de tuiles (au m²)", 95),
             ("Pose de gouttières", 1200), ("Réfection complète (maison individuelle)", 18500)),
            price_style="eur_space", phone="+33 4 78 12 34 56", hours=(Window(0, 4, 8, 18),),
        ),
        Business(
            "Cabinet Dentaire du Parc", "cabinet-dentaire-du-parc", "un premier bilan",
            "Soins dentaires et esthétiques pour toute la famille, avec des créneaux dans la "
            "semaine et le tiers payant.",
            "Amélie, l'assistante dentaire chaleureuse et organisée",
            "Amélie Rousseau, Cabinet Dentaire du Parc",
            (("Bilan et détartrage", 60), ("Blanchiment dentaire", 390),
             ("Couronne céramique", 850), ("Gouttières d'alignement (traitement)", 3200)),
            price_style="eur_space_cents", phone="+33 1 99 00 12 34",
            hours=(Window(0, 4, 9, 12), Window(0, 4, 14, 19)),
        ),
        Business(
            "Facturio", "facturio", "la mise en place de Facturio",
            "Facturio est un logiciel de facturation et de comptabilité pour les agences et les "
            "indépendants : factures, notes de frais et paie au même endroit.",
            "Julien, un chargé de compte efficace qui va à l'essentiel", "Julien Lefèvre, Facturio",
            (("Offre Solo (par mois)", 19), ("Offre Équipe (par mois)", 79),
             ("Accompagnement au démarrage", 450), ("Licence Entreprise (par an)", 8900)),
            price_style="eur_space", phone="+33 6 39 98 12 34", hours=(Window(0, 4, 9, 18),),
        ),
        Business(
            "Soleil Provence Énergie", "soleil-provence-energie", "une installation photovoltaïque",
            "Panneaux solaires et batteries pour maisons individuelles en Provence, démarches et "
            "aides de l'État comprises.",
            "Thomas, un conseiller énergie patient", "Thomas Garnier, Soleil Provence Énergie",
            (("Étude sur site", 150), ("Installation 6 kWc", 13900), ("Batterie domestique", 6800),
             ("Nettoyage des panneaux", 140)),
            price_style="eur_space", phone="+33 4 91 12 34 56",
            hours=(Window(0, 4, 8, 17), Window(5, 5, 9, 12)),
        ),
    ),
    first_names=(
        "Françoise", "François", "Jérôme", "Gaëlle", "Noël", "Anaïs", "Clément", "Loïc", "Maëlle",
        "Benoît", "Céline", "Élodie", "Jean-Luc", "Marie-Claire", "Agnès", "Raphaël", "Chloé",
        "Aurélien", "Søren", "Łukasz", "José", "Jürgen", "Zoë",
    ),
    last_names=(
        "Dubois", "Bérenger", "Lemaître", "Giraud", "Faure", "Fontaine", "Chevalier", "Brunet",
        "Lacroix", "Roux", "Moreau", "Girard", "Bonnet", "Dupré", "Lévêque", "Bouchard", "Nguyen",
        "Müller", "Kowalski", "Østergaard", "Peña",
    ),
    companies=(
        "Boulangerie Lefort", "Transports Delta", "Atelier Digitale",
        "Clinique Vétérinaire des Berges", "Brasserie du Port", "Imprimerie Zénith",
        "Cabinet d'Architectes Cèdre & Pierre", "Pépinière du Jardin", "Optique Lumière",
        "Café de la Gare", "Domaine des Vignes", "Salon Argenté", "Garage Rivière",
        "Librairie Éole",
    ),
    cities=("Lyon", "Nantes", "Besançon", "Orléans", "Nîmes", "Périgueux", "Rennes", "Grenoble",
            "Béziers", "Angers"),
    timezones=("Europe/Paris", "Europe/Paris", "Europe/Brussels"),
    weekdays=("lundi", "mardi", "mercredi", "jeudi", "vendredi"),
    inbound={
        "pricing": (
            "Combien coûte la prestation « {item} » ?",
            "Quel est votre tarif pour « {item} » ?",
            "Pouvez-vous m'envoyer vos prix pour « {item} » ?",
            "Combien coûterait « {item} » pour {company} ?",
            "Avez-vous une grille tarifaire ? Je m'intéresse surtout à « {item} ».",
            "Avant d'aller plus loin, quel serait le coût approximatif ?",
            "Avez-vous des tarifs pour « {item} » ? Nous préparons le budget du prochain "
            "trimestre.",
        ),
        "meeting": (
            "Pouvons-nous prévoir un appel cette semaine ?",
            "J'aimerais en parler. Êtes-vous disponible {day} après-midi ?",
            "Pourriez-vous faire un point rapide par téléphone {day} ?",
            "Avec plaisir pour un rendez-vous. Quels créneaux vous conviennent la semaine "
            "prochaine ?",
            "Fixons quelque chose, je suis libre {day} matin.",
            "Votre équipe pourrait-elle passer pour une visite {day} ?",
        ),
        "information": (
            "Comment se déroule {service} ?",
            "Travaillez-vous avec des entreprises comme {company} ?",
            "Qu'est-ce qui est inclus dans « {item} » ?",
            "Pourriez-vous m'envoyer plus de détails ? Je compare plusieurs offres.",
            "Combien de temps prend {service} en général ?",
            "Intervenez-vous dans notre secteur ? Nous sommes à {city}.",
        ),
        "objection": (
            "Honnêtement, c'est trop cher pour nous en ce moment.",
            "Nous travaillons déjà avec un autre prestataire et nous en sommes satisfaits.",
            "Ce n'est pas une priorité pour nous ce trimestre.",
            "Mauvais timing, nous venons de signer avec quelqu'un d'autre.",
            "Je ne pense pas que nous en ayons besoin pour le moment.",
        ),
        "opt_out": (
            "Merci de ne plus me contacter.",
            "Désabonner",
            "Retirez-moi de votre liste, s'il vous plaît.",
            "STOP",
            "Pas intéressé. Merci d'arrêter de m'écrire.",
            "Je souhaite me désabonner de votre liste d'envoi.",
            "Ne me contactez plus.",
        ),
        "out_of_office": (
            "Je suis absent du bureau jusqu'à {day}, avec un accès limité à mes e-mails. Je vous "
            "répondrai à mon retour.",
            "Réponse automatique : je suis actuellement absente et serai de retour {day}.",
            "Merci pour votre message. Je suis en congé jusqu'à la semaine prochaine ; pour toute "
            "urgence, contactez ma collègue à l'accueil.",
        ),
        "other": (
            "Merci, bien reçu.",
            "Très bien, je transmets à mon associé.",
            "Reçu, je regarde ça.",
            "Merci ! Je reviens vers vous après en avoir discuté avec l'équipe.",
            "D'accord, c'est noté.",
        ),
    },
    stop_by="Puis-je passer à votre bureau {day} pour en parler de vive voix ?",
    markup=(
        "Notre formulaire de contact affiche <script>alert(1)</script> après l'envoi, et le lien "
        "d'aperçu \"><img src=x onerror=alert(1)> ne fonctionne pas non plus. Combien coûterait "
        "« {item} » ?"
    ),
    inbound_email=(
        "Bonjour {agent},\n\n{core}\n\nMerci,\n{first}",
        "Bonjour,\n\n{core}\n\n{first}",
        "{core}\n\nCordialement,\n{first} {last}\n{company}",
    ),
    linkedin="Bonjour {agent}, {core}",
    subjects=("Question", "Votre message", "Petite question", "Suite à votre message",
              "Demande depuis le site"),
    thread_subject="{service} pour {company}",
    openers=(
        "Bonjour {first}, je suis {agent}, de {business}. Nous accompagnons des équipes comme "
        "{company} pour {service}. Voulez-vous que je vous envoie quelques détails ?",
        "Bonjour {first}, j'ai vu que {company} se développe à {city}. {business} a aidé des "
        "équipes similaires pour {service}. Je peux vous expliquer comment, si cela vous "
        "intéresse.",
        "Bonjour {first}, ici {agent}, de {business}. Je vous écris au cas où {service} ferait "
        "partie de vos projets cette saison.",
    ),
    follow_ups=(
        "Bonjour {first}, je me permets de revenir vers vous suite à mon dernier message. "
        "{signature}",
        "Bonjour {first}, je relance au cas où mon message se serait perdu. {signature}",
        "Bonjour {first}, je clos le sujet pour l'instant. {signature}",
    ),
    opt_out_confirmation="Votre désinscription est confirmée : vous ne recevrez plus de messages.",
    human_replies=(
        "Bonjour {first}, ici {agent}. Je vérifie avec l'équipe et je reviens vers vous demain.",
        "Merci {first} ! C'est plus simple à expliquer par téléphone, je vous appelle cet "
        "après-midi. {agent}",
        "{first}, merci pour votre message. Je l'ai transmis à notre responsable administrative, "
        "qui vous répondra aujourd'hui. {agent}",
        "Bonjour {first}, bonne question. Je vous envoie une réponse détaillée plus tard dans la "
        "journée. {agent}",
    ),
    opt_out_human_reply="C'est fait, {first}. Votre désinscription est prise en compte. {agent}",
    greeting_edits=("{n},", "Bonjour {n} !", "Bonsoir {n},", "Re-bonjour {n},"),
    added_sentences=(
        "Je suis disponible toute la semaine si un appel est plus simple.",
        "Nous venons de terminer un chantier près de chez vous.",
        "Merci encore pour votre patience.",
        "N'hésitez pas si quelque chose n'est pas clair.",
        "Je peux vous envoyer quelques références.",
    ),
    signoff_edits=("Bien cordialement", "À bientôt", "Merci beaucoup"),
    persona="{persona} chez {business}",
    item_case="keep",
    phones=("+33 6 ## ## ## ##", "+33 1 ## ## ## ##", "06 ## ## ## ##", "+33 7 ## ## ## ##"),
    slot_offers=(
        "Bonjour {first}, pour en parler je peux vous proposer {slots}. Lequel vous convient le "
        "mieux ? {agent}",
        "Bonjour {first}, voici mes disponibilités : {slots}. Dites-moi ce qui vous arrange. "
        "{agent}",
    ),
    slot_picks=(
        "{Slot}, ça me convient.",
        "Je prends le créneau de {slot}.",
        "Va pour {slot}.",
    ),
)  # fmt: skip
