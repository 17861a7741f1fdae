"""A realistic demo region: Stichtse Vecht, with its library, municipality and partners."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Channel,
    ConsultationHours,
    Device,
    Duration,
    EmbedOrigin,
    ExceptionKind,
    HowHelped,
    Location,
    LocationClosure,
    Mode,
    Organisation,
    OrganisationKind,
    OutsideBody,
    Recurrence,
    RegisteredQuestion,
    Registration,
    Role,
    SeriesException,
    SeriesStatus,
    Topic,
    User,
)
from app.services import accounts, occurrence_index

# Every language residents can choose (config LANGUAGES): the standard topics are named in each.
TOPIC_LANGUAGES = ("nl", "en", "ar", "fa", "ti", "tr", "pl", "uk")
DEFAULT_TOPICS = [
    # slug, icon, then the name per language; the field's words (DigiD, Toeslagen, UWV, ...)
    # are never translated, only explained in brackets (see app/translations/glossary/)
    ("digid", "id-card", dict.fromkeys(TOPIC_LANGUAGES, "DigiD")),
    (
        "belastingdienst",
        "tax",
        {
            "nl": "Belastingdienst",
            "en": "Belastingdienst (taxes)",
            "ar": "الضرائب (Belastingdienst)",
            "fa": "مالیات (Belastingdienst)",
            "ti": "ግብሪ (Belastingdienst)",
            "tr": "Vergiler (Belastingdienst)",
            "pl": "Podatki (Belastingdienst)",
            "uk": "Податки (Belastingdienst)",
        },
    ),
    (
        "toeslagen",
        "benefits",
        {
            "nl": "Toeslagen",
            "en": "Toeslagen (benefits)",
            "ar": "الإعانات (Toeslagen)",
            "fa": "کمک‌های مالی (Toeslagen)",
            "ti": "ደገፍ ገንዘብ (Toeslagen)",
            "tr": "Yardım ödemeleri (Toeslagen)",
            "pl": "Dodatki (Toeslagen)",
            "uk": "Допомоги (Toeslagen)",
        },
    ),
    (
        "uwv",
        "work",
        {
            "nl": "UWV",
            "en": "UWV (work and benefits)",
            "ar": "العمل والإعانات (UWV)",
            "fa": "کار و کمک‌های مالی (UWV)",
            "ti": "ስራሕን ደገፍ ገንዘብን (UWV)",
            "tr": "İş ve yardım ödemeleri (UWV)",
            "pl": "Praca i zasiłki (UWV)",
            "uk": "Робота і виплати (UWV)",
        },
    ),
    (
        "svb",
        "pension",
        {
            "nl": "SVB",
            "en": "SVB (pension and child benefit)",
            "ar": "التقاعد وإعانة الأطفال (SVB)",
            "fa": "تقاعد و کمک هزینه اطفال (SVB)",
            "ti": "ጡረታን ደገፍ ቆልዑን (SVB)",
            "tr": "Emeklilik ve çocuk parası (SVB)",
            "pl": "Emerytura i zasiłek na dzieci (SVB)",
            "uk": "Пенсія і допомога на дітей (SVB)",
        },
    ),
    (
        "duo",
        "study",
        {
            "nl": "DUO",
            "en": "DUO (study finance)",
            "ar": "تمويل الدراسة (DUO)",
            "fa": "کمک مالی تحصیلی (DUO)",
            "ti": "ደገፍ ገንዘብ ትምህርቲ (DUO)",
            "tr": "Öğrenim kredisi (DUO)",
            "pl": "Pieniądze na naukę (DUO)",
            "uk": "Фінансування навчання (DUO)",
        },
    ),
    (
        "cak",
        "health",
        {
            "nl": "CAK",
            "en": "CAK (care costs)",
            "ar": "تكاليف الرعاية (CAK)",
            "fa": "هزینه‌های مراقبت (CAK)",
            "ti": "ወጻኢታት ክንክን (CAK)",
            "tr": "Bakım masrafları (CAK)",
            "pl": "Koszty opieki (CAK)",
            "uk": "Витрати на догляд (CAK)",
        },
    ),
    (
        "gemeente",
        "town-hall",
        {
            "nl": "Gemeente",
            "en": "Municipality",
            "ar": "البلدية",
            "fa": "شاروالی",
            "ti": "ምምሕዳር ከተማ",
            "tr": "Belediye",
            "pl": "Gmina",
            "uk": "Муніципалітет",
        },
    ),
    (
        "geldzaken",
        "money",
        {
            "nl": "Geldzaken",
            "en": "Money matters",
            "ar": "الأمور المالية",
            "fa": "امور مالی",
            "ti": "ጉዳያት ገንዘብ",
            "tr": "Para işleri",
            "pl": "Sprawy pieniężne",
            "uk": "Фінансові питання",
        },
    ),
    (
        "computer-telefoon",
        "computer",
        {
            "nl": "Computer en telefoon",
            "en": "Computer and phone",
            "ar": "الكمبيوتر والهاتف",
            "fa": "کمپیوتر و تیلفون",
            "ti": "ኮምፒተርን ቴሌፎንን",
            "tr": "Bilgisayar ve telefon",
            "pl": "Komputer i telefon",
            "uk": "Комп'ютер і телефон",
        },
    ),
    (
        "taal",
        "language",
        {
            "nl": "Nederlandse taal",
            "en": "Dutch language",
            "ar": "اللغة الهولندية",
            "fa": "زبان هالندی",
            "ti": "ቋንቋ ሆላንድኛ",
            "tr": "Hollandaca",
            "pl": "Język holenderski",
            "uk": "Нідерландська мова",
        },
    ),
    (
        "anders",
        "help",
        {
            "nl": "Andere vraag",
            "en": "Other question",
            "ar": "سؤال آخر",
            "fa": "سؤال دیگر",
            "ti": "ካልእ ሕቶ",
            "tr": "Başka bir soru",
            "pl": "Inne pytanie",
            "uk": "Інше запитання",
        },
    ),
]
OUTSIDE_BODIES = ["Juridisch Loket", "BelastingTelefoon", "Nibud", "Zorgverzekeraar"]
# The national IDO registration's categories that are for registering contacts only (not
# offered to residents until the coordinator does).
REGISTRATION_TOPICS = [
    (
        "cjib",
        "tax",
        {
            "nl": "CJIB",
            "en": "CJIB (fines)",
            "ar": "الغرامات (CJIB)",
            "fa": "جریمه‌ها (CJIB)",
            "ti": "መቕጻዕቲ ገንዘብ (CJIB)",
            "tr": "Para cezaları (CJIB)",
            "pl": "Mandaty i grzywny (CJIB)",
            "uk": "Штрафи (CJIB)",
        },
    ),
    (
        "mijnoverheid",
        "id-card",
        dict.fromkeys(TOPIC_LANGUAGES, "MijnOverheid"),
    ),
    (
        "zorgverzekering",
        "health",
        {
            "nl": "Zorgverzekering",
            "en": "Health insurance",
            "ar": "التأمين الصحي",
            "fa": "بیمه صحی",
            "ti": "መድሕን ጥዕና",
            "tr": "Sağlık sigortası",
            "pl": "Ubezpieczenie zdrowotne",
            "uk": "Медичне страхування",
        },
    ),
]


def ensure_default_topics() -> list[Topic]:
    """Create the standard topics and the national registration's categories that do not
    exist yet, and give the existing ones their names in the languages they have none in
    (a name staff gave is kept)."""
    existing = {t.slug: t for t in db.session.scalars(sa.select(Topic))}
    listed = [(t, True) for t in DEFAULT_TOPICS] + [(t, False) for t in REGISTRATION_TOPICS]
    for order, ((slug, icon, names), public) in enumerate(listed):
        topic = existing.get(slug)
        if topic is None:
            topic = Topic(slug=slug, icon=icon, sort_order=order * 10, public=public)
            db.session.add(topic)
        for language, name in names.items():
            if not topic.own_name(language):
                topic.set_name(language, name)
    db.session.commit()
    return list(db.session.scalars(sa.select(Topic).order_by(Topic.sort_order)))


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def load(today: date | None = None) -> list[tuple[str, str, str, str]]:
    """Load the demo region into an empty database; return (role, name, email, password)."""
    today = today or date.today()
    topics = {t.slug: t for t in ensure_default_topics()}
    for order, name in enumerate(OUTSIDE_BODIES):
        db.session.add(OutsideBody(name=name, sort_order=order * 10))

    def org(kind, name, description, referral_info, **extra) -> Organisation:
        item = Organisation(
            kind=kind, name=name, description=description, referral_info=referral_info, **extra
        )
        db.session.add(item)
        return item

    library = org(
        OrganisationKind.LIBRARY,
        "Bibliotheek Stichtse Vecht",
        "Gratis hulp bij DigiD, belastingen, toeslagen en andere overheidswebsites. "
        "Cursussen Digisterker en Klik & Tik.",
        "Stuur de inwoner naar het Informatiepunt Digitale Overheid in een van onze vestigingen.",
        phone="0346 - 000 000",
        website="https://www.example.org/bibliotheek",
    )
    gemeente = org(
        OrganisationKind.MUNICIPALITY,
        "Gemeente Stichtse Vecht",
        "Vragen over paspoort, uitkering, bijzondere bijstand en andere zaken van de gemeente.",
        "Warme overdracht naar het team Klantcontact, of het algemene nummer 14 0346.",
        phone="14 0346",
    )
    kwadraad = org(
        OrganisationKind.PARTNER,
        "Kwadraad Maatschappelijk Werk",
        "Maatschappelijk werk: hulp bij zorgen over geld, relaties, opvoeding of werk.",
        "Bel het aanmeldnummer of boek een afspraak op het spreekuur in de bibliotheek.",
    )
    geldpunt = org(
        OrganisationKind.PARTNER,
        "Geldpunt Stichtse Vecht",
        "Hulp bij rekeningen, schulden en het overzicht van uw geld. Gratis en vertrouwelijk.",
        "Warme overdracht met toestemming; wij bellen de inwoner binnen een week.",
    )
    vluchtelingenwerk = org(
        OrganisationKind.PARTNER,
        "VluchtelingenWerk Stichtse Vecht",
        "Hulp voor statushouders en nieuwkomers bij brieven, inburgering en regelingen.",
        "Inloop zonder afspraak, of warme overdracht aan de coördinator.",
    )
    welzijn = org(
        OrganisationKind.PARTNER,
        "Welzijn Stichtse Vecht",
        "Hulp bij formulieren, vervoer, mantelzorg en meedoen in de wijk.",
        "Bel of mail de sociaal makelaar van de wijk.",
    )
    oco = org(
        OrganisationKind.PARTNER,
        "OCO Stichtse Vecht",
        "Onafhankelijke cliëntondersteuning: iemand die met u meegaat naar gesprekken "
        "met de gemeente over zorg of werk.",
        "Aanmelden met toestemming van de inwoner; wij nemen binnen drie werkdagen contact op.",
        website="https://www.onafhankelijkeclientondersteuningstichtsevecht.example.org/aanmelden",
    )

    def place(owner, name, street, postcode, city, accessibility="") -> Location:
        item = Location(
            organisation=owner,
            name=name,
            street=street,
            postcode=postcode,
            city=city,
            accessibility=accessibility,
        )
        db.session.add(item)
        return item

    maarssen = place(
        library,
        "Bibliotheek Maarssen",
        "Harmonieplein 25",
        "3603 BS",
        "Maarssen",
        "Ingang zonder drempel, lift naar de eerste verdieping, ringleiding bij de balie.",
    )
    breukelen = place(
        library,
        "Bibliotheek Breukelen",
        "Kerkbrink 2",
        "3621 BM",
        "Breukelen",
        "Rolstoeltoegankelijk. Rustige spreekkamer achter de balie.",
    )
    loenen = place(
        library,
        "Bibliotheek Loenen",
        "Dorpsstraat 36",
        "3632 AT",
        "Loenen aan de Vecht",
        "Eén kleine stap bij de ingang; een medewerker helpt u graag.",
    )
    huis_van_de_wijk = place(
        welzijn,
        "Huis van de Wijk Maarssenbroek",
        "Bisonspoor 3002",
        "3605 LV",
        "Maarssen",
        "Rolstoeltoegankelijk, invalidentoilet.",
    )
    place(gemeente, "Gemeentehuis Stichtse Vecht", "Endelhovenlaan 1", "3601 GR", "Maarssen")

    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=4)

    def hours(provider, location, title, description, topic_slugs, **fields) -> ConsultationHours:
        fields.setdefault("status", SeriesStatus.PUBLISHED)
        fields.setdefault("start_date", start)
        fields.setdefault("recurrence", Recurrence.WEEKLY)
        fields.setdefault(
            "what_to_bring", "Uw telefoon of tablet, uw DigiD-app en de brieven die u kreeg."
        )
        item = ConsultationHours(
            provider=provider,
            location=location,
            title=title,
            description=description,
            topics=[topics[s] for s in topic_slugs],
            revision=1,
            **fields,
        )
        db.session.add(item)
        return item

    ido_maarssen = hours(
        library,
        maarssen,
        "Informatiepunt Digitale Overheid",
        "Vragen over DigiD, belastingen, toeslagen of een andere overheidswebsite? "
        "Kom langs of maak een afspraak.",
        ["digid", "belastingdienst", "toeslagen", "uwv", "svb", "duo", "cak"],
        mode=Mode.MIXED,
        weekdays="1",
        start_time=time(14, 0),
        end_time=time(16, 0),
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
        slot_minutes=30,
        seats_per_slot=2,
    )
    ido_breukelen = hours(
        library,
        breukelen,
        "Informatiepunt Digitale Overheid",
        "Hulp bij DigiD, belastingen en toeslagen. Alleen op afspraak.",
        ["digid", "belastingdienst", "toeslagen", "computer-telefoon"],
        mode=Mode.APPOINTMENT,
        weekdays="3",
        start_time=time(10, 0),
        end_time=time(12, 0),
        slot_minutes=30,
    )
    hours(
        library,
        huis_van_de_wijk,
        "Hulp met uw telefoon en DigiD",
        "De bibliotheek helpt u in het Huis van de Wijk met uw telefoon, tablet en DigiD.",
        ["digid", "computer-telefoon"],
        mode=Mode.MIXED,
        weekdays="2",
        start_time=time(10, 0),
        end_time=time(12, 0),
        walk_in_start=time(10, 0),
        walk_in_end=time(10, 30),
        slot_minutes=30,
    )
    kwadraad_hours = hours(
        kwadraad,
        maarssen,
        "Spreekuur maatschappelijk werk",
        "Zorgen over geld, werk of thuis? Praat met een maatschappelijk werker.",
        ["geldzaken", "anders"],
        mode=Mode.APPOINTMENT,
        weekdays="2",
        interval_weeks=2,
        start_time=time(13, 0),
        end_time=time(15, 0),
        slot_minutes=30,
    )
    geldpunt_hours = hours(
        geldpunt,
        breukelen,
        "Geldpunt: hulp bij geldzaken",
        "Hulp bij rekeningen, schulden en uw geld op orde.",
        ["geldzaken", "toeslagen"],
        mode=Mode.APPOINTMENT,
        recurrence=Recurrence.MONTHLY,
        weekdays="0",
        month_weeks="1,3",
        start_time=time(10, 0),
        end_time=time(12, 0),
        slot_minutes=45,
        what_to_bring="Uw bankafschriften en de rekeningen of brieven waar u vragen over heeft.",
    )
    hours(
        vluchtelingenwerk,
        loenen,
        "Inloopspreekuur VluchtelingenWerk",
        "Hulp bij brieven, inburgering en regelingen. U hoeft geen afspraak te maken.",
        ["gemeente", "duo", "taal"],
        mode=Mode.WALK_IN,
        weekdays="4",
        start_time=time(10, 0),
        end_time=time(12, 0),
    )
    hours(
        gemeente,
        maarssen,
        "Vragen aan de gemeente",
        "Een medewerker van de gemeente beantwoordt uw vragen over zaken van de gemeente.",
        ["gemeente"],
        mode=Mode.APPOINTMENT,
        weekdays="0",
        start_time=time(14, 0),
        end_time=time(16, 0),
        slot_minutes=20,
    )
    hours(
        welzijn,
        loenen,
        "Hulp bij formulieren",
        "Een vrijwilliger van Welzijn helpt u met formulieren op papier en online.",
        ["gemeente", "toeslagen", "anders"],
        mode=Mode.APPOINTMENT,
        weekdays="1",
        start_time=time(9, 30),
        end_time=time(11, 30),
        slot_minutes=30,
    )
    hours(
        oco,
        breukelen,
        "Inloop cliëntondersteuning",
        "Iemand die met u meedenkt en meegaat naar gesprekken over zorg of werk.",
        ["gemeente", "anders"],
        mode=Mode.WALK_IN,
        recurrence=Recurrence.MONTHLY,
        weekdays="3",
        month_weeks="-1",
        start_time=time(13, 0),
        end_time=time(15, 0),
    )
    hours(
        kwadraad,
        loenen,
        "Spreekuur maatschappelijk werk Loenen",
        "Nieuw spreekuur, nog niet gepubliceerd.",
        ["geldzaken"],
        mode=Mode.APPOINTMENT,
        weekdays="3",
        start_time=time(13, 0),
        end_time=time(15, 0),
        start_date=monday + timedelta(weeks=3),
        status=SeriesStatus.DRAFT,
    )
    db.session.flush()

    # A few exceptions: a cancelled date, other times once, an extra date.
    next_kwadraad = next(
        d
        for d in (today + timedelta(days=i) for i in range(1, 30))
        if d.weekday() == 2 and ((d - start).days // 7) % 2 == 0
    )
    db.session.add_all(
        [
            SeriesException(
                series=kwadraad_hours,
                date=next_kwadraad,
                kind=ExceptionKind.CANCELLED,
                reason="De maatschappelijk werker is op cursus.",
            ),
            SeriesException(
                series=ido_breukelen,
                date=next_weekday(today + timedelta(days=7), 3),
                kind=ExceptionKind.CHANGED,
                start_time=time(13, 0),
                end_time=time(15, 0),
                reason="Deze week 's middags.",
            ),
            SeriesException(
                series=geldpunt_hours,
                date=next_weekday(today + timedelta(days=14), 4),
                kind=ExceptionKind.EXTRA,
                start_time=time(10, 0),
                end_time=time(12, 0),
                reason="Extra spreekuur.",
            ),
            SeriesException(
                series=ido_maarssen,
                date=next_weekday(today + timedelta(days=28), 1),
                kind=ExceptionKind.CANCELLED,
                reason="Studiedag van de bibliotheek.",
            ),
        ]
    )
    closure_start = next_weekday(today + timedelta(days=21), 0)
    db.session.add(
        LocationClosure(
            location=loenen,
            start_date=closure_start,
            end_date=closure_start + timedelta(days=6),
            reason="Verbouwing van de bibliotheek.",
        )
    )
    db.session.commit()
    # The municipality's website (its test copy on this computer) may embed the lists.
    db.session.add(EmbedOrigin(origin="http://localhost:8000", label="Gemeente (test)"))
    db.session.commit()

    logins = []
    for role, organisation, name, email in [
        (Role.COORDINATOR, library, "Anna de Vries", "coordinator@bibliotheek.example.org"),
        (Role.ORG_ADMIN, library, "Bram Jansen", "beheer@bibliotheek.example.org"),
        (Role.STAFF, library, "Chris Bakker", "balie@bibliotheek.example.org"),
        (Role.VOLUNTEER, library, "Dina Smit", "vrijwilliger@bibliotheek.example.org"),
        (Role.ORG_ADMIN, kwadraad, "Eva Mulder", "beheer@kwadraad.example.org"),
        (Role.STAFF, kwadraad, "Femke de Boer", "medewerker@kwadraad.example.org"),
        (Role.STAFF, geldpunt, "Gijs Visser", "medewerker@geldpunt.example.org"),
        (Role.STAFF, gemeente, "Hanna Meijer", "klantcontact@gemeente.example.org"),
        # The municipality's admin sees the whole network's figures.
        (Role.ORG_ADMIN, gemeente, "Lotte van Dam", "beheer@gemeente.example.org"),
        (Role.ORG_ADMIN, welzijn, "Ilse de Graaf", "beheer@welzijn.example.org"),
        (Role.STAFF, vluchtelingenwerk, "Jamal Haddad", "medewerker@vluchtelingenwerk.example.org"),
        (Role.STAFF, oco, "Karin Bos", "medewerker@oco.example.org"),
    ]:
        password = accounts.generate_password()
        accounts.create_user(
            organisation=organisation, name=name, email=email, role=role, password=password
        )
        logins.append((role.value, name, email, password))
    load_referrals(today)
    load_desk_history(today)
    load_waiting_list()
    occurrence_index.rebuild()
    db.session.commit()
    load_messages(today)
    return logins


def load_waiting_list() -> None:
    """Kwadraad's hours fully booked, three residents on their waiting list, and one
    cancellation whose freed time is now held for and offered to the first of them."""
    from app.services import booking as booking_service
    from app.services import waiting_list
    from app.services.booking import ResidentDetails
    from app.services.waiting_list import WaitingDetails

    series = db.session.scalar(
        sa.select(ConsultationHours).where(
            ConsultationHours.title == "Spreekuur maatschappelijk werk"
        )
    )
    start = clock.today()
    free = booking_service.available_slots(
        [series], start, start + timedelta(days=series.book_ahead_days)
    )
    names = ["Mirjam", "Youssef", "Petra", "Ahmet", "Iris", "Tomasz", "Sanne", "Olena"]
    booked = []
    for n, item in enumerate(free):
        for _seat in range(item.seats_left):
            booking, _token = booking_service.book(
                series,
                item.slot.start_utc,
                ResidentDetails(name=names[n % len(names)], phone=f"06 1000 {n:04d}"),
            )
            booked.append(booking)
    db.session.commit()
    for name, phone, email, language in [
        ("Fatma", "06 2000 0001", "fatma@example.org", "tr"),
        ("Jan", "06 2000 0002", "", "nl"),
        ("Oksana", "", "oksana@example.org", "uk"),
    ]:
        waiting_list.join(series, WaitingDetails(name, phone, email, language))
        db.session.commit()
    if booked:
        # The latest appointment is cancelled: its time is held for Fatma.
        booking_service.cancel(booked[-1], version=booked[-1].version, reason="Demo")
        db.session.commit()


def load_messages(today: date) -> None:
    """A few appointments in the coming days with the messages about them: sent, failed and
    waiting for another try, given up; and residents to call the day before."""
    from app.models import Booking, MessageChannel, OutboxMessage, OutboxStatus
    from app.services import booking as booking_service
    from app.services import notify
    from app.services.booking import ResidentDetails

    series = [
        s
        for s in db.session.scalars(
            sa.select(ConsultationHours).where(ConsultationHours.status == SeriesStatus.PUBLISHED)
        )
        if s.is_bookable_mode
    ]
    # The first free times from tomorrow on, so that the call list for tomorrow has names.
    free = sorted(
        booking_service.available_slots(
            series, today + timedelta(days=1), today + timedelta(days=6), staff=True
        ),
        key=lambda item: item.slot.start_utc,
    )
    residents = [
        ResidentDetails(name="Sanne", email="sanne@example.org"),
        ResidentDetails(
            name="Mohamed", phone="06 12345678", email="mohamed@example.org", language="en"
        ),
        ResidentDetails(name="Mevrouw Kok", phone="0346 123456"),
        ResidentDetails(name="Piet", phone="06 98765432"),
    ]
    now = datetime.now(UTC)
    for details, item in zip(residents, free, strict=False):
        booking, token = booking_service.book(
            item.occurrence.series, item.slot.start_utc, details, now=now
        )
        notify.booking_confirmed(booking, token)
    db.session.flush()
    # As the outbox would have left them: the first confirmation went out, the second
    # found the mail server down; a reminder by SMS was refused by the provider.
    messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    if messages:
        messages[0].status, messages[0].sent_at, messages[0].body = OutboxStatus.SENT, now, ""
        messages[0].ics = None
    if len(messages) > 1:
        messages[1].attempts = 1
        messages[1].last_error = "[Errno 111] Connection refused"
        messages[1].next_attempt_at = now + timedelta(minutes=2)
        booking = db.session.get(Booking, messages[1].booking_id)
        db.session.add(
            OutboxMessage(
                channel=MessageChannel.SMS,
                kind="reminder",
                recipient="+31612345678",
                subject="",
                body="",
                booking_id=booking.id,
                status=OutboxStatus.FAILED,
                attempts=1,
                last_error="CM.com: Gsm '0031612345678' is blacklisted. (error 402)",
                created_at=now,
                next_attempt_at=now,
            )
        )
    db.session.commit()


def load_referrals(today: date) -> None:
    """Referral profiles, the library's courses and a few referrals in every state."""
    from app.models import ConsentMethod, ConsentScope, ContactMethod, ReferralKind, Urgency
    from app.models import ReferralStatus as Status
    from app.services import course_signups, courses, referrals
    from app.services.referrals import ConsentAnswers, ReferralDraft

    def find(model, **where):
        return db.session.scalar(sa.select(model).filter_by(**where))

    def user(email: str) -> User:
        return find(User, email=email)

    org = {o.name.split()[0].lower(): o for o in db.session.scalars(sa.select(Organisation))}
    topic = {t.slug: t for t in db.session.scalars(sa.select(Topic))}
    library, geldpunt, kwadraad = org["bibliotheek"], org["geldpunt"], org["kwadraad"]

    referrals.save_profile(
        geldpunt,
        "Geen belastingaangifte en geen juridisch advies.",
        "Bel 0346 - 111 111 op werkdagen tussen 9 en 12 uur.",
        "Uw bankafschriften van de laatste drie maanden en de brieven over uw schulden.",
    )
    referrals.save_profile(
        library,
        "Wij maken geen DigiD voor u aan en vullen geen formulieren voor u in.",
        "Loop binnen tijdens het inloopspreekuur of bel 0346 - 000 000.",
        "Uw telefoon of tablet, uw DigiD-app en de brief waar het om gaat.",
    )
    referrals.save_profile(
        kwadraad,
        "Geen hulp bij DigiD of computers: daarvoor is de bibliotheek.",
        "Bel het aanmeldnummer 0346 - 222 222.",
        "",
    )

    monday = next_weekday(today + timedelta(days=1), 0)
    maarssen = find(Location, name="Bibliotheek Maarssen")
    breukelen = find(Location, name="Bibliotheek Breukelen")
    # The intake hours of Digisterker: short conversations at the library, by appointment.
    intake_hours = ConsultationHours(
        provider=library,
        location=maarssen,
        title="Kennismaking Digisterker",
        description="Een kort gesprek voor de cursus Digisterker: wat u al kunt en wat u "
        "wilt leren.",
        topics=[topic["computer-telefoon"]],
        status=SeriesStatus.PUBLISHED,
        mode=Mode.APPOINTMENT,
        recurrence=Recurrence.WEEKLY,
        weekdays="3,4",
        start_date=today,
        start_time=time(9, 0),
        end_time=time(10, 0),
        slot_minutes=20,
        min_notice_hours=2,
        book_ahead_days=14,
        revision=1,
    )
    db.session.add(intake_hours)
    db.session.flush()
    digisterker = courses.create_course(
        library,
        courses.CourseData(
            title="Digisterker: werken met de digitale overheid",
            description="In vier lessen leert u inloggen met DigiD en zaken regelen op "
            "websites van de overheid. Kleine groep, eerst een kort kennismakingsgesprek.",
            what_to_bring="Uw telefoon met de DigiD-app, of uw DigiD-gegevens.",
            location=maarssen,
            capacity=8,
            first_date=monday + timedelta(weeks=1),
            start_time=time(10, 0),
            end_time=time(12, 0),
            sessions=4,
            topic=topic["digid"],
            device=Device.EITHER,
            needs_intake=True,
            intake_series=intake_hours,
        ),
        None,
    )
    klik_en_tik = courses.create_course(
        library,
        courses.CourseData(
            title="Klik & Tik: de basis",
            description="Voor wie nog weinig met de computer heeft gedaan: muis, toetsenbord, "
            "internet en e-mail.",
            location=breukelen,
            capacity=6,
            first_date=monday + timedelta(days=2),
            start_time=time(14, 0),
            end_time=time(15, 30),
            sessions=3,
            topic=topic["computer-telefoon"],
            device=Device.LIBRARY,
        ),
        None,
    )
    # Two residents signed up themselves, one at the desk.
    for name in ("Ans", "B.K."):
        course_signups.sign_up(klik_en_tik, course_signups.SignUp(name=name))
    course_signups.sign_up(
        klik_en_tik,
        course_signups.SignUp(name="Wim", phone="06 - 3456 7890"),
        by=user("balie@bibliotheek.example.org"),
    )
    # The course filled up; one of them signed off and Henk, who has no e-mail address, moved
    # up from the waiting list: the desk's list says to tell him.
    signed = [
        course_signups.sign_up(klik_en_tik, course_signups.SignUp(name=name)).enrolment
        for name in ("Els", "Gerrit", "Hanna")
    ]
    course_signups.sign_up(klik_en_tik, course_signups.SignUp(name="Henk", phone="06 - 4567 8901"))
    course_signups.cancel(signed[0])

    def warm(by, to, slug, name, scope=ConsentScope.CONTACT, course=None, **extra):
        draft = ReferralDraft(
            to_organisation=to,
            kind=ReferralKind.WARM,
            topic=topic[slug],
            urgency=extra.pop("urgency", Urgency.NORMAL),
            language=extra.pop("language", "nl"),
            contact_method=ContactMethod.PHONE,
            resident_name=name,
            phone=extra.pop("phone", "06 - 1234 5678"),
            request=extra.pop("request", ""),
            course=course,
        )
        scope = ConsentScope.COURSE if course else scope
        answers = ConsentAnswers(True, True, ConsentMethod.SPOKEN, scope, "nl")
        return referrals.create(draft, by, answers)

    chris = user("balie@bibliotheek.example.org")
    femke = user("medewerker@kwadraad.example.org")
    gijs = user("medewerker@geldpunt.example.org")
    hanna = user("klantcontact@gemeente.example.org")
    energie = warm(
        chris,
        geldpunt,
        "geldzaken",
        "F. El Amrani",
        ConsentScope.APPOINTMENT,
        urgency=Urgency.SOON,
        request="Kan de energierekening niet betalen en wil een betalingsregeling.",
    )
    free = referrals.free_times(energie)
    if free:
        referrals.book_slot(energie, free[0].occurrence.series, free[0].slot.start_utc, chris)
    kwijtschelding = warm(
        chris,
        org["gemeente"],
        "gemeente",
        "J. de Wit",
        request="Wil kwijtschelding van de gemeentelijke belastingen aanvragen.",
    )
    referrals.update(kwijtschelding, hanna, Status.IN_CONTACT, "Teruggebeld, afspraak volgt.")
    warm(
        femke,
        library,
        "digid",
        "M. Jansen",
        course=digisterker,
        request="Wil zelf leren inloggen met DigiD.",
    )
    warm(
        user("medewerker@vluchtelingenwerk.example.org"),
        library,
        "computer-telefoon",
        "A. Haddad",
        course=klik_en_tik,
        language="ar",
        request="Wil leren e-mailen met de computer.",
    )
    schulden = warm(
        gijs,
        kwadraad,
        "geldzaken",
        "R. Bakker",
        request="Heeft zorgen over geld en thuis; wil praten met een maatschappelijk werker.",
    )
    referrals.update(schulden, femke, Status.IN_CONTACT)
    referrals.update(schulden, femke, Status.DONE, "Twee gesprekken gehad.")
    referrals.create(
        ReferralDraft(to_organisation=kwadraad, kind=ReferralKind.SIGNPOST, topic=topic["anders"]),
        user("vrijwilliger@bibliotheek.example.org"),
    )
    demo_course_runs(library, maarssen, digisterker, monday, chris, femke, warm)
    db.session.commit()


def demo_course_runs(library, maarssen, digisterker, monday, staff, referrer, warm) -> None:
    """A Digisterker group that has had its four sessions, with who came marked on each list,
    and a coming session cancelled with a reason and made up for a week after the last."""
    from app.services import course_runs, courses

    held = courses.create_course(
        library,
        courses.CourseData(
            title="Digisterker: werken met de digitale overheid (vorige groep)",
            location=maarssen,
            capacity=6,
            first_date=monday,
            start_time=time(10, 0),
            end_time=time(12, 0),
            sessions=4,
        ),
        None,
    )
    group = [
        warm(referrer, library, "digid", name, course=held, request="Wil leren inloggen met DigiD.")
        for name in ("K. Visser", "S. Yilmaz", "P. de Boer", "L. Smit", "H. Mulder")
    ]
    for weeks_ago, session in zip((5, 4, 3, 2), held.sessions, strict=True):
        session.date = monday - timedelta(weeks=weeks_ago)
    db.session.flush()
    for n, session in enumerate(held.sessions):
        # Most came every time; one stayed away twice, one missed the last session.
        marks = {
            referral.enrolment.id: not ((i == 2 and n in (1, 2)) or (i == 4 and n == 3))
            for i, referral in enumerate(group)
        }
        course_runs.record_attendance(session, marks, staff)
    course_runs.set_open(held, False, staff)
    third = digisterker.sessions[2]
    course_runs.cancel_session(third, "De zaal is die dag niet beschikbaar.", staff)
    last = digisterker.sessions[-1]
    course_runs.add_session(
        digisterker, last.date + timedelta(weeks=1), last.start_time, last.end_time, staff
    )


def existing_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.id)))


# How often each category, channel and way of helping comes up at the desk (weights).
DESK_TOPICS = {
    "digid": 22,
    "toeslagen": 16,
    "belastingdienst": 14,
    "gemeente": 8,
    "uwv": 7,
    "computer-telefoon": 7,
    "svb": 4,
    "duo": 3,
    "cak": 3,
    "geldzaken": 5,
    "cjib": 2,
    "mijnoverheid": 5,
    "zorgverzekering": 3,
    "anders": 4,
}
DESK_CHANNELS = {
    Channel.DESK: 70,
    Channel.APPOINTMENT: 10,
    Channel.PHONE: 12,
    Channel.ONLINE: 5,
    Channel.PARTNER_LOCATION: 3,
}
DESK_HOW_HELPED = {
    HowHelped.INFORMATION: 35,
    HowHelped.SHOWN_HOW: 25,
    HowHelped.STEP_BY_STEP: 28,
    HowHelped.REFERRED: 12,
}
DESK_DURATIONS = {
    Duration.UNDER_10: 30,
    Duration.FROM_10_TO_20: 40,
    Duration.FROM_20_TO_30: 20,
    Duration.OVER_30: 10,
}


def load_desk_history(today: date, days: int = 365, seed: int = 10) -> int:
    """A year of registered contacts at every place where hours are held, on the days they
    are held: more at the library's own desks, fewer at the partners'. Inserted in bulk (two
    executemany statements); returns the number of contacts."""
    rng = random.Random(seed)

    def pick(weights: dict):
        return rng.choices(list(weights), weights=list(weights.values()))[0]

    topics = {t.slug: t.id for t in db.session.scalars(sa.select(Topic))}
    topic_weights = {topics[slug]: w for slug, w in DESK_TOPICS.items() if slug in topics}
    partners = list(
        db.session.scalars(
            sa.select(Organisation.id).where(Organisation.kind != OrganisationKind.LIBRARY)
        )
    )
    bodies = list(db.session.scalars(sa.select(OutsideBody.id)))
    desks: dict[tuple[int, int], set[int]] = {}
    for series in db.session.scalars(sa.select(ConsultationHours)):
        desks.setdefault((series.provider_id, series.location_id), set()).update(
            series.weekday_list
        )
    library_ids = set(
        db.session.scalars(
            sa.select(Organisation.id).where(Organisation.kind == OrganisationKind.LIBRARY)
        )
    )
    contacts, questions = [], []
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        # Quieter in the summer holiday and around Christmas, busier in tax season.
        season = {7: 0.5, 8: 0.6, 12: 0.7, 3: 1.3, 4: 1.4, 5: 1.2}.get(day.month, 1.0)
        for (organisation_id, location_id), weekdays in sorted(desks.items()):
            if day.weekday() not in weekdays:
                continue
            busy = 9 if organisation_id in library_ids else 3
            for _ in range(round(rng.randint(1, busy) * season)):
                moment = datetime.combine(day, time(10 + rng.randint(0, 6)), UTC)
                contacts.append(
                    {
                        "organisation_id": organisation_id,
                        "location_id": location_id,
                        "channel": pick(DESK_CHANNELS),
                        "duration": pick(DESK_DURATIONS),
                        "day": day,
                        "registered_at": moment,
                    }
                )
    ids = db.session.scalars(
        sa.insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
        contacts,
    ).all()
    for registration_id, contact in zip(ids, contacts, strict=True):
        for _ in range(rng.choices((1, 2, 3), weights=(75, 20, 5))[0]):
            how = pick(DESK_HOW_HELPED)
            to_body = how is HowHelped.REFERRED and bodies and rng.random() < 0.3
            receiver = None if how is not HowHelped.REFERRED or to_body else rng.choice(partners)
            questions.append(
                {
                    "registration_id": registration_id,
                    "topic_id": pick(topic_weights),
                    "how_helped": how,
                    "referred_organisation_id": receiver,
                    "outside_body_id": rng.choice(bodies) if to_body else None,
                    "course_recommended": rng.random() < 0.08,
                    "organisation_id": contact["organisation_id"],
                    "location_id": contact["location_id"],
                    "day": contact["day"],
                }
            )
    db.session.execute(sa.insert(RegisteredQuestion), questions)
    db.session.commit()
    return len(contacts)
