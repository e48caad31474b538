"""Spanish: how drafts are worded, and what Spanish-speaking clients, leads and humans write.

Drafts address the lead as `usted`. Prices are written as Spanish businesses write them
(`1.200 €`, `45,00 €`, `€2,400`), and meeting times as `el jueves 12 de noviembre a las 10:00`.
"""

from __future__ import annotations

import re

from replay.devtools.locales import Business, Locale
from replay.devtools.phrases import Line, Window, Wording, rules

WORDING = Wording(
    language="es",
    name="Spanish",
    greetings=("Hola, {n}:", "Hola {n},", "Buenos días, {n}:"),
    greetings_no_name=("Hola:", "Buenos días:", "Hola, buenas:"),
    greetings_opt_out=("Hola, {n}:", "Hola {n},", "{n}:"),
    signoffs=("Un saludo", "Saludos", "Gracias", "Atentamente"),
    bodies={
        "pricing": (
            Line(("Gracias por preguntar por los precios.", "Con gusto le paso nuestros precios.",
                  "Buena pregunta sobre el coste."), required=False),
            Line(("El precio de {item_lower} es {price}.", "{item}: {price}.",
                  "Por {item_lower} cobramos {price}."), movable=True, needs="quotes"),
            Line(("Cuando quiera, puede reservar un hueco aquí: {link}",
                  "Si quiere seguir adelante, elija un momento aquí: {link}"),
                 required=False, movable=True, needs="link"),
            Line(("¿Encaja con lo que tenía en mente?",
                  "¿Quiere que le prepare un presupuesto detallado?"), required=False),
        ),
        "meeting": (
            Line(("Con gusto buscamos un momento.", "Será un placer hablarlo.",
                  "Vamos a cerrar una fecha."), required=False),
            Line(("¿Le iría bien {times}?", "Tengo libre {times}, ¿le encaja alguno?",
                  "¿Qué tal {times}?"), movable=True),
            Line(("También puede elegir cualquier hueco libre aquí: {link}",
                  "Si lo prefiere, reserve directamente aquí: {link}"), movable=True, needs="link"),
            Line(("Si le resulta más cómodo, llámeme al {phone}.",), required=False, needs="phone"),
        ),
        "confirm": (
            Line(("Perfecto, le confirmo {slot}.", "Queda reservado {slot}.",
                  "Genial, lo dejamos para {slot}.")),
            Line(("Le envío ahora la invitación.", "En un momento le llega la invitación."),
                 required=False),
            Line(("Si necesita cambiarlo, puede elegir otro hueco aquí: {link}",),
                 required=False, needs="link"),
        ),
        "information": (
            Line(("Con gusto le cuento más.", "Buena pregunta."), required=False),
            Line(("{service}", "En resumen: {service}"), movable=True, needs="service"),
            Line(("El precio de {item_lower} es {price}.", "{item} sale por {price}."),
                 required=False, movable=True, needs="quote"),
            Line(("Si le resulta más fácil, reserve un momento para verlo juntos: {link}",
                  "Puede reservar una breve presentación aquí: {link}"),
                 required=False, needs="link"),
            Line(("También puede llamarme al {phone}.",), required=False, needs="phone"),
            Line(("Quedo a su disposición para cualquier otra pregunta.",),
                 required=False, needs="no_link"),
        ),
        "objection": (
            Line(("Lo entiendo perfectamente, gracias por su sinceridad.",
                  "Lo comprendo del todo.", "Tiene todo el sentido.")),
            Line(("Por si le sirve, {item_lower} cuesta {price} sin permanencia.",),
                 required=False, movable=True, needs="quote"),
            Line(("Si algo cambia, aquí estaré para ayudarle.",
                  "Le dejo la puerta abierta, sin ningún compromiso."), movable=True),
            Line(("Mi agenda está aquí por si algún día quiere hablar: {link}",),
                 required=False, needs="link"),
        ),
        "opt_out": (
            Line(("Entendido, disculpe las molestias.", "De acuerdo, perdone la interrupción."),
                 movable=True),
            Line(("Le he dado de baja de nuestra lista y no volverá a saber de nosotros.",
                  "Ya no está en nuestra lista y no recibirá más mensajes nuestros."),
                 movable=True),
            Line(("Le deseo lo mejor.", "Que le vaya muy bien."), required=False),
        ),
        "out_of_office": (
            Line(("Gracias por avisar.", "Gracias por hacérmelo saber."), movable=True),
            Line(("Le escribo de nuevo cuando esté de vuelta.", "Retomamos el tema a su regreso."),
                 movable=True),
            Line(("Sin ninguna prisa.",), required=False),
        ),
        "other": (
            Line(("Gracias por su respuesta.", "Le agradezco la respuesta."), movable=True),
            Line(("Dígame si puedo ayudarle en algo.", "Aquí estoy para lo que necesite."),
                 movable=True),
            Line(("Si le ayuda una llamada rápida, reserve un hueco aquí: {link}",),
                 required=False, needs="link"),
        ),
    },
    no_prices="Le preparo las cifras exactas enseguida.",
    bare_price="Los precios empiezan en {price}.",
    intent_rules=rules((
        ("opt_out", r"^\W*baja\W*$|\b(?:dar(?:me|nos|le)? de baja|solicito la baja"
                    r"|no me (?:escriban|escribas|escriba|contacten|contactes|contacte|llamen"
                    r"|manden|envíen|envien)|no (?:vuelvan|vuelva|vuelvas) a (?:contactar"
                    r"|escribir|llamar)|dejen de (?:escribir|enviar|llamar|contactar|mandar)"
                    r"|deja de (?:escribir|enviar)|b[oó]rren(?:me|nos)|elim[ií]n(?:en)?me"
                    r"|s[aá]quen(?:me|nos)|no (?:quiero|deseo) recibir)"),
        ("out_of_office", r"\b(?:fuera de la oficina|respuesta automática|de vacaciones"
                          r"|ausente hasta|estoy ausente|acceso limitado al correo"
                          r"|no estaré disponible hasta)"),
        ("objection", r"\b(?:demasiado car[oa]|muy car[oa]|ya trabajamos con"
                      r"|ya tenemos (?:un|una|otro|otra)|ya contamos con|contentos con"
                      r"|no es (?:una )?prioridad|no es (?:el|buen) momento|mal momento"
                      r"|sin presupuesto|no tenemos presupuesto|no creo que lo necesitemos"
                      r"|no lo necesitamos|acabamos de firmar|no nos interesa)"),
        ("pricing", r"\b(?:cu[aá]nto (?:cuesta|cuestan|costar[ií]a|cobran|vale|sale)|precios?"
                    r"|tarifas?|presupuesto|coste|costo|cobran)\b|€|\d\s?euros?\b"),
        ("meeting", r"\b(?:llamada|llamar(?:nos|le)?|reuni[oó]n|reunirnos|cita|quedar|hablarlo"
                    r"|hablar|vernos|visita|pasar por|demo|agend\w*|me viene bien|me va bien"
                    r"|le viene bien|disponible|libre el|qué horarios)\b|\ba las \d"),
        ("information", r"\?|\b(?:más (?:información|info|detalles)|cómo funciona|cuánto tiempo"
                        r"|qué incluye|trabajan (?:con|en)|envíen(?:me)? (?:más|detalles))"),
    )),
    days=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "diciembre"),
    hours=("9:00", "10:00", "11:30", "13:00", "16:00", "17:30"),
    slot_forms={
        "offer": "el {weekday} {day} de {month} a las {hm}",
        "pick": "{weekday} a las {hx}",
        "short": "el {weekday} a las {hm}",
        "long": "el {weekday}, {day} de {month}, a las {hx} h",
        "propose": "el {weekday} a las {hm}",
        "default": "el {weekday} a las {hour}",
    },
    window_form=("{a} a {b} {start:02d}:00-{end:02d}:00", "{a} {start:02d}:00-{end:02d}:00"),
    connector="a las",
    or_word="o",
    common_words=frozenset(
        "el los las por para con una es su sus nos gracias hola usted muy pero qué cómo cuánto "
        "cuál está estoy estamos podemos podría podríamos tengo tiene tienen hay del al más ya "
        "mi lo sobre también este esta ahora mismo parece quiero favor vale buenos días "
        "semana momento creo otra otro me interesa mensajes saludo dejen enviarme".split()
    ),
    marks=re.compile(r"[¿¡ñáíóú]"),
    item_stopwords=frozenset({"para", "plan", "completa", "completo", "media", "tratamiento"}),
)  # fmt: skip

_WEEKDAYS = (Window(0, 4, 9, 14), Window(0, 3, 16, 19))

LOCALE = Locale(
    language="es",
    businesses=(
        Business(
            "Reformas Albero", "reformas-albero", "una reforma de cocina",
            "Reformas integrales de cocinas y baños en Sevilla y alrededores, con precio cerrado "
            "y plazos por contrato.",
            "Lucía, una jefa de obra cercana y resolutiva", "Lucía Fernández, Reformas Albero",
            (("Medición y estudio técnico", 60), ("Reforma de baño completa", 6900),
             ("Reforma de cocina (media)", 12500), ("Cambio de bañera por plato de ducha", 1450)),
            price_style="eur_dot", phone="+34 954 123 456", hours=_WEEKDAYS,
        ),
        Business(
            "Clínica Dental Sonrisa Norte", "clinica-sonrisa-norte", "una primera revisión",
            "Odontología general y estética para toda la familia, con huecos en la misma semana "
            "y financiación sin intereses.",
            "Marta, la coordinadora de pacientes, amable y organizada",
            "Marta Giménez, Clínica Dental Sonrisa Norte",
            (("Revisión inicial con limpieza", 45), ("Blanqueamiento dental", 290),
             ("Implante dental completo", 1200), ("Ortodoncia invisible (tratamiento)", 3450)),
            price_style="eur_dot_cents", phone="+34 612 34 56 78", hours=(Window(0, 4, 10, 20),),
        ),
        Business(
            "Cuentalia", "cuentalia", "el alta en Cuentalia",
            "Cuentalia es un software de facturación y contabilidad para autónomos y pymes: "
            "facturas, gastos e impuestos en un solo sitio.",
            "Álvaro, un gestor de cuentas práctico y directo", "Álvaro Núñez, Cuentalia",
            (("Plan Autónomo (al mes)", 19), ("Plan Pyme (al mes)", 49),
             ("Migración de datos", 350), ("Licencia Empresa (al año)", 2400)),
            price_style="eur_prefix", phone="+34 910 123 456", hours=(Window(0, 4, 9, 18),),
        ),
        Business(
            "Solaria Levante", "solaria-levante", "una instalación solar",
            "Instalación de placas solares y baterías para viviendas en la Comunidad Valenciana, "
            "con la tramitación de ayudas incluida.",
            "Javier, un asesor energético paciente", "Javier Peñalver, Solaria Levante",
            (("Estudio de viabilidad", 150), ("Instalación de 5 kW", 6200),
             ("Batería doméstica", 4300), ("Limpieza de placas", 90)),
            price_style="eur_dot", phone="+34 963 123 456", hours=(Window(0, 4, 8, 15),),
        ),
    ),
    first_names=(
        "José", "María", "Íñigo", "Begoña", "Ramón", "Águeda", "Sebastián", "Núria", "Raúl",
        "Inés", "Jesús", "Ángela", "Joaquín", "Mónica", "Andrés", "Sofía", "Tomás", "Verónica",
        "Óscar", "Noemí", "Łukasz", "Søren", "Françoise", "Jürgen",
    ),
    last_names=(
        "García", "Núñez", "Peña", "Muñoz", "Fernández", "Martínez", "Sánchez", "Gómez", "Díaz",
        "Pérez", "Rodríguez", "Jiménez", "Álvarez", "Ibáñez", "Castaño", "Ortega", "Müller",
        "Kowalski", "Nørgaard", "Lefèvre",
    ),
    companies=(
        "Talleres Núñez", "Panadería La Espiga", "Arquitectos Cedro y Piedra",
        "Transportes Delta", "Clínica Veterinaria Ribera", "Estudio Dedalera", "Bodegas Altamira",
        "Peluquería Plata", "Hostal El Mirador", "Ferretería Ibáñez", "Gestoría Luján",
        "Imprenta Cénit", "Café Calle Mayor", "Óptica Lumen", "Construcciones Granito",
        "Viveros del Sur",
    ),
    cities=("Sevilla", "Valencia", "Málaga", "Zaragoza", "Bilbao", "Córdoba", "Alicante",
            "Valladolid", "Gijón", "Cádiz"),
    timezones=("Europe/Madrid", "Europe/Madrid", "Atlantic/Canary"),
    weekdays=("lunes", "martes", "miércoles", "jueves", "viernes"),
    inbound={
        "pricing": (
            "¿Me dice el precio de {item}?",
            "¿Qué cobran por {item}?",
            "¿Me podrían enviar las tarifas de {item}?",
            "¿Cuál sería el precio de {item} para {company}?",
            "¿Tienen una lista de precios? Me interesa sobre todo el precio de {item}.",
            "Antes de seguir, ¿cuál sería el coste aproximado?",
            "¿Cuánto cobran por {item}? Estamos cerrando el presupuesto del trimestre.",
        ),
        "meeting": (
            "¿Podemos hacer una llamada esta semana?",
            "Me gustaría hablarlo. ¿Está libre el {day} por la tarde?",
            "¿Podríamos tener una llamada rápida el {day}?",
            "Encantado de reunirnos. ¿Qué horarios le vienen bien la semana que viene?",
            "Agendemos algo, tengo libre el {day} por la mañana.",
            "¿Podría venir alguien de su equipo a hacer una visita el {day}?",
        ),
        "information": (
            "¿Me puede contar más sobre cómo funciona {service}?",
            "¿Trabajan con empresas como {company}?",
            "¿Qué incluye el servicio de {item}?",
            "¿Me podrían enviar más información? Estoy comparando varias opciones.",
            "¿Cuánto tiempo lleva {service}?",
            "¿Trabajan en nuestra zona? Estamos en {city}.",
        ),
        "objection": (
            "Sinceramente, ahora mismo nos parece demasiado caro.",
            "Ya trabajamos con otro proveedor y estamos contentos con ellos.",
            "No es una prioridad para nosotros este trimestre.",
            "Mal momento, acabamos de firmar con otra empresa.",
            "De momento no creo que lo necesitemos.",
        ),
        "opt_out": (
            "Por favor, no me escriban más.",
            "BAJA",
            "Quiero darme de baja de su lista.",
            "No me interesa. Dejen de enviarme mensajes, por favor.",
            "Bórrenme de su lista de correo, gracias.",
            "No vuelvan a contactarme.",
        ),
        "out_of_office": (
            "Estoy fuera de la oficina hasta el {day}, con acceso limitado al correo. Le "
            "responderé a mi vuelta.",
            "Respuesta automática: estoy ausente y volveré el {day}.",
            "Gracias por su mensaje. Estoy de vacaciones hasta la semana que viene; para "
            "cualquier urgencia, contacte con mi compañera de recepción.",
        ),
        "other": (
            "Gracias, recibido.",
            "Perfecto, se lo paso a mi socio.",
            "Recibido, lo miro con calma.",
            "¡Gracias! Le digo algo cuando lo comente con el equipo.",
            "Vale, apuntado.",
        ),
    },
    stop_by="¿Podría pasar por su oficina de la planta baja el {day} para verlo en persona?",
    markup=(
        "El formulario de contacto muestra <script>alert(1)</script> al enviarlo, y el enlace de "
        'vista previa "><img src=x onerror=alert(1)> tampoco funciona. ¿Qué cobran por {item}?'
    ),
    inbound_email=(
        "Hola, {agent}:\n\n{core}\n\nGracias,\n{first}",
        "Buenos días:\n\n{core}\n\n{first}",
        "{core}\n\nUn saludo,\n{first} {last}\n{company}",
    ),
    linkedin="Hola, {agent}. {core}",
    subjects=("Consulta", "Su mensaje", "Una pregunta", "Seguimiento", "Solicitud desde la web"),
    thread_subject="{service} para {company}",
    openers=(
        "Hola, {first}. Soy {agent}, de {business}. Ayudamos a empresas como {company} con "
        "{service}. ¿Le resultaría útil que le enviara algunos detalles?",
        "Hola, {first}. He visto que {company} está creciendo en {city}. En {business} hemos "
        "ayudado a equipos parecidos con {service}. Si le interesa, le cuento cómo.",
        "Buenos días, {first}. Le escribe {agent}, de {business}. Le contacto por si {service} "
        "está entre sus planes esta temporada.",
    ),
    follow_ups=(
        "Hola, {first}. Solo quería saber si vio mi último mensaje. {signature}",
        "Hola, {first}. Le escribo de nuevo por si se le pasó mi mensaje. {signature}",
        "Hola, {first}. Cierro el tema por ahora. {signature}",
    ),
    opt_out_confirmation="Se ha dado de baja y no recibirá más mensajes.",
    human_replies=(
        "Hola, {first}, soy {agent}. Lo consulto con el equipo y le digo algo mañana.",
        "¡Gracias, {first}! Es más fácil explicarlo por teléfono; le llamo esta tarde. {agent}",
        "{first}, gracias por el mensaje. Se lo he pasado a nuestra responsable de oficina, que "
        "le contestará hoy. {agent}",
        "Hola, {first}. Buena pregunta. Le envío una explicación detallada esta tarde. {agent}",
    ),
    opt_out_human_reply="Hecho, {first}. Le hemos dado de baja. {agent}",
    greeting_edits=("{n}:", "Buenos días, {n}:", "¡Hola, {n}!", "Hola de nuevo, {n}:"),
    added_sentences=(
        "Estoy disponible toda la semana si prefiere una llamada.",
        "Acabamos de terminar un trabajo cerca de usted.",
        "Gracias de nuevo por su paciencia.",
        "Dígame si algo no queda claro.",
        "Le puedo pasar algunas referencias.",
    ),
    signoff_edits=("Saludos cordiales", "Hasta pronto", "Muchas gracias"),
    persona="{persona} en {business}",
    item_case="first",
    phones=("+34 6## ## ## ##", "+34 9## ### ###", "6## ### ###"),
    slot_offers=(
        "Hola, {first}. Para verlo con calma le propongo {slots}. ¿Cuál le viene mejor? {agent}",
        "Hola, {first}. Tengo estos huecos libres: {slots}. Dígame cuál prefiere. {agent}",
    ),
    slot_picks=(
        "El {slot} me viene bien.",
        "Perfecto, me va bien el {slot}.",
        "{Slot}, perfecto. Así lo hablamos.",
    ),
)  # fmt: skip
